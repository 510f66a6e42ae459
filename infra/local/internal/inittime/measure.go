package inittime

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// errNoRounds reports Options.Rounds below 1.
var errNoRounds = errors.New("at least one timed round is needed")

// Options configure Measure.
type Options struct {
	// Rounds is the number of timed rounds; each starts every program once.
	Rounds int
	// Shuffle orders the programs of a round; nil means a random order each round.
	Shuffle func(n int, swap func(i, j int))
}

// Result is one program's cold starts, one sample per round in round order.
type Result struct {
	Name    string
	Samples []time.Duration
}

// Min is the fastest cold start.
func (r Result) Min() time.Duration { return slices.Min(r.Samples) }

// Max is the slowest cold start.
func (r Result) Max() time.Duration { return slices.Max(r.Samples) }

// Median is the middle cold start (the mean of the two middle ones for an even count): the
// figure the benchmark compares, since one slow moment of the machine moves it least.
func (r Result) Median() time.Duration {
	s := slices.Sorted(slices.Values(r.Samples))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Measure starts every program once in an untimed warm-up round, then once per timed round, the
// order shuffled each round, and returns the timed samples in the order of programs. It stops at
// the first program that fails to start: a function that cannot initialise has no cold start to
// compare.
func Measure(ctx context.Context, programs []Program, opts Options) ([]Result, error) {
	if opts.Rounds < 1 {
		return nil, errNoRounds
	}
	shuffle := opts.Shuffle
	if shuffle == nil {
		shuffle = rand.Shuffle
	}
	results := make([]Result, len(programs))
	for i, p := range programs {
		results[i] = Result{Name: p.Name, Samples: make([]time.Duration, 0, opts.Rounds)}
	}
	order := make([]int, len(programs))
	for i := range order {
		order[i] = i
	}
	for round := 0; round <= opts.Rounds; round++ { // round 0 is the warm-up
		shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			d, err := Start(ctx, programs[i])
			if err != nil {
				return nil, fmt.Errorf("round %d: %w", round, err)
			}
			if round > 0 {
				results[i].Samples = append(results[i].Samples, d)
			}
		}
	}
	return results, nil
}
