package envvar

import (
	"strings"
	"testing"
)

func TestRequire(t *testing.T) {
	t.Setenv("ENVVAR_A", "a")
	t.Setenv("ENVVAR_B", "  ")
	got, err := Require("ENVVAR_A")
	if err != nil || got["ENVVAR_A"] != "a" {
		t.Fatalf("Require(ENVVAR_A) = %v, %v; want a, nil", got, err)
	}
	_, err = Require("ENVVAR_A", "ENVVAR_B", "ENVVAR_UNSET")
	if err == nil || !strings.Contains(err.Error(), "ENVVAR_B, ENVVAR_UNSET") {
		t.Fatalf("Require with blank and unset names: err = %v; want both named", err)
	}
}

func TestInt(t *testing.T) {
	tests := []struct {
		value   string
		want    int
		wantErr bool
	}{
		{"", 7, false},
		{"42", 42, false},
		{"4x", 0, true},
	}
	for _, tt := range tests {
		t.Setenv("ENVVAR_INT", tt.value)
		got, err := Int("ENVVAR_INT", 7)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("Int(%q) = %d, %v; want %d, error %v", tt.value, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestFraction(t *testing.T) {
	tests := []struct {
		value   string
		want    float64
		wantErr bool
	}{
		{"", 0.5, false},
		{"0.05", 0.05, false},
		{"1", 1, false},
		{"1.5", 0, true},
		{"-0.1", 0, true},
		{"half", 0, true},
	}
	for _, tt := range tests {
		t.Setenv("ENVVAR_FRACTION", tt.value)
		got, err := Fraction("ENVVAR_FRACTION", 0.5)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("Fraction(%q) = %v, %v; want %v, error %v", tt.value, got, err, tt.want, tt.wantErr)
		}
	}
}
