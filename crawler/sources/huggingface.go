package sources

import _ "github.com/afterlife-watch/afterlife/crawler/huggingface" // registers "huggingface"
