package sources

import _ "github.com/afterlife-watch/afterlife/crawler/arxiv" // registers "arxiv"
