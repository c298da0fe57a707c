package sources

import _ "github.com/afterlife-watch/afterlife/crawler/academictorrents" // registers "academictorrents"
