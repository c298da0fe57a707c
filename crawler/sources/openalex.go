package sources

import _ "github.com/afterlife-watch/afterlife/crawler/openalex" // registers "openalex"
