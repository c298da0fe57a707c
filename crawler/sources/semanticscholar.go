package sources

import _ "github.com/afterlife-watch/afterlife/crawler/semanticscholar" // registers "semanticscholar"
