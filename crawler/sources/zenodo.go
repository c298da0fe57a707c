package sources

import _ "github.com/afterlife-watch/afterlife/crawler/zenodo" // registers "zenodo"
