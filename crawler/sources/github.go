package sources

import _ "github.com/afterlife-watch/afterlife/crawler/github" // registers "github"
