//go:build race

package gen

// raceDetector is true in tests built with -race, which make the slowest
// tests take minutes.
const raceDetector = true
