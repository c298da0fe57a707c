package sources

import _ "github.com/afterlife-watch/afterlife/crawler/swarm" // registers "swarm"
