package demoworld

import "embed"

// PlantedFS holds the demo world's planted afterlife: planted/<source>.jsonl, one planted artifact
// a line. It is demo and test data, so it lives with the demo world, not in configs.
//
//go:embed planted
var PlantedFS embed.FS
