package configs

import "embed"

// Demo holds the demo world's planted afterlife: demo/<source>.jsonl, one planted artifact a line.
//
//go:embed demo
var Demo embed.FS
