package coldstart

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
)

func TestSetup(t *testing.T) {
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("DEBUG_SAMPLE_RATE", "0.25")
	log := slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil))
	d, err := Setup(context.Background(), log)
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	if d.Log != log || d.AWS.Region != "eu-west-1" || d.Correlation.SampleRate != 0.25 {
		t.Errorf("Deps = log %v, region %q, sample rate %v; want the given logger, eu-west-1, 0.25", d.Log == log, d.AWS.Region, d.Correlation.SampleRate)
	}
}

func TestSetupRejectsBadSampleRate(t *testing.T) {
	t.Setenv("DEBUG_SAMPLE_RATE", "5%")
	if _, err := Setup(context.Background(), slog.Default()); err == nil {
		t.Error("Setup with DEBUG_SAMPLE_RATE=5% succeeded; want an error at cold start")
	}
}
