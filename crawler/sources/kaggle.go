package sources

import _ "github.com/afterlife-watch/afterlife/crawler/kaggle" // registers "kaggle"
