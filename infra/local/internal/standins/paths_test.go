package standins

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultPaths(t *testing.T) {
	got := DefaultPaths("/repo/.cache")
	want := Paths{
		DynamoDBLocalDir: "/repo/.cache/standins/dynamodb-local",
		FauxqsCLI:        "/repo/.cache/standins/fauxqs/node_modules/fauxqs/dist/cli.js",
		VersityGW:        "/repo/.cache/standins/bin/versitygw",
	}
	if got != want {
		t.Errorf("DefaultPaths: got %+v, want %+v", got, want)
	}
}

// fakeTools puts executables named java and node on a PATH of their own.
func fakeTools(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatalf("write fake %s: %v", name, err)
		}
	}
	return dir
}

// install creates the files the stand-ins need under cache, empty.
func install(t *testing.T, cache string, which ...string) {
	t.Helper()
	p := DefaultPaths(cache)
	files := map[string]string{
		"jar":       filepath.Join(p.DynamoDBLocalDir, "DynamoDBLocal.jar"),
		"lib":       filepath.Join(p.DynamoDBLocalDir, "DynamoDBLocal_lib", "libsqlite4java-linux-amd64.so"),
		"fauxqs":    p.FauxqsCLI,
		"versitygw": p.VersityGW,
	}
	for _, w := range which {
		path := files[w]
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatalf("mkdir: %v", err)
		}
		if err := os.WriteFile(path, nil, 0o755); err != nil {
			t.Fatalf("write %s: %v", path, err)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name      string
		installed []string
		tools     []string
		want      []string // lines the error must hold; none means no error
		notWant   []string
	}{
		{
			name:      "everything in place",
			installed: []string{"jar", "lib", "fauxqs", "versitygw"},
			tools:     []string{"java", "node"},
		},
		{
			name:  "nothing downloaded",
			tools: []string{"java", "node"},
			want: []string{
				"run: make standins",
				"standins/dynamodb-local/DynamoDBLocal.jar",
				"standins/dynamodb-local/DynamoDBLocal_lib",
				"standins/fauxqs/node_modules/fauxqs/dist/cli.js",
				"standins/bin/versitygw",
			},
			notWant: []string{"not found on PATH"},
		},
		{
			name:      "only versitygw missing",
			installed: []string{"jar", "lib", "fauxqs"},
			tools:     []string{"java", "node"},
			want:      []string{"run: make standins", "standins/bin/versitygw"},
			notWant:   []string{"DynamoDBLocal", "cli.js"},
		},
		{
			name:      "no runtimes",
			installed: []string{"jar", "lib", "fauxqs", "versitygw"},
			want:      []string{"java not found on PATH", "node not found on PATH"},
			notWant:   []string{"make standins"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			install(t, cache, tt.installed...)
			t.Setenv("PATH", fakeTools(t, tt.tools...))

			err := DefaultPaths(cache).Check()
			if len(tt.want) == 0 {
				if err != nil {
					t.Errorf("Check: got %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check: got nil, want an error naming %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Check: got %q, want it to name %q", err, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(err.Error(), w) {
					t.Errorf("Check: got %q, want no mention of %q", err, w)
				}
			}
		})
	}
}

func TestStartRefusesMissingStandIns(t *testing.T) {
	paths := DefaultPaths(t.TempDir())
	tests := []struct {
		name  string
		start func() (*Process, error)
	}{
		{name: "dynamodb", start: func() (*Process, error) { return StartDynamoDB(t.Context(), paths, 0, nil) }},
		{name: "fauxqs", start: func() (*Process, error) { return StartFauxqs(t.Context(), paths, 0, nil) }},
		{name: "versitygw", start: func() (*Process, error) {
			return StartVersity(t.Context(), paths, 0, VersityConfig{DataDir: t.TempDir(), AccessKey: "key", SecretKey: "secret"}, nil)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.start()
			if err == nil {
				p.Stop()
				t.Fatalf("start: got a process, want an error")
			}
			if !strings.Contains(err.Error(), "make standins") {
				t.Errorf("start: got %q, want it to say run: make standins", err)
			}
		})
	}
}
