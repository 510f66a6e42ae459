package standins

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Paths says where the downloaded stand-ins are.
type Paths struct {
	// DynamoDBLocalDir holds DynamoDBLocal.jar and DynamoDBLocal_lib.
	DynamoDBLocalDir string
	// FauxqsCLI is fauxqs's dist/cli.js.
	FauxqsCLI string
	// VersityGW is the versitygw binary.
	VersityGW string
}

// DefaultPaths returns the layout `make standins` creates under cacheDir (the repository's
// .cache directory): standins/dynamodb-local/, standins/fauxqs/node_modules/fauxqs/dist/cli.js
// and standins/bin/versitygw.
func DefaultPaths(cacheDir string) Paths {
	dir := filepath.Join(cacheDir, "standins")
	return Paths{
		DynamoDBLocalDir: filepath.Join(dir, "dynamodb-local"),
		FauxqsCLI:        filepath.Join(dir, "fauxqs", "node_modules", "fauxqs", "dist", "cli.js"),
		VersityGW:        filepath.Join(dir, "bin", "versitygw"),
	}
}

// Check returns nil if every stand-in and the runtime it needs is in place, or an error
// naming each one that is missing and how to get it.
func (p Paths) Check() error {
	var all missing
	for _, m := range []missing{p.missingDynamoDB(), p.missingFauxqs(), p.missingVersity()} {
		all.files = append(all.files, m.files...)
		all.tools = append(all.tools, m.tools...)
	}
	return all.err()
}

// missing is what a stand-in lacks: downloaded files, and runtimes that must be installed.
type missing struct {
	files []string
	tools []string
}

// err describes what is missing, or returns nil if nothing is.
func (m missing) err() error {
	var lines []string
	if len(m.files) > 0 {
		lines = append(lines, "stand-ins missing (run: make standins):")
		for _, f := range m.files {
			lines = append(lines, "  "+f)
		}
	}
	lines = append(lines, m.tools...)
	if len(lines) == 0 {
		return nil
	}
	return errors.New(strings.Join(lines, "\n"))
}

func (p Paths) missingDynamoDB() missing {
	m := missing{files: missingFiles(
		filepath.Join(p.DynamoDBLocalDir, "DynamoDBLocal.jar"),
		filepath.Join(p.DynamoDBLocalDir, "DynamoDBLocal_lib"),
	)}
	if _, err := exec.LookPath("java"); err != nil {
		m.tools = append(m.tools, "java not found on PATH: DynamoDB Local needs Java 17 or later")
	}
	return m
}

func (p Paths) missingFauxqs() missing {
	m := missing{files: missingFiles(p.FauxqsCLI)}
	if _, err := exec.LookPath("node"); err != nil {
		m.tools = append(m.tools, "node not found on PATH: fauxqs 1.9 needs Node.js 20")
	}
	return m
}

func (p Paths) missingVersity() missing {
	return missing{files: missingFiles(p.VersityGW)}
}

func missingFiles(paths ...string) []string {
	var missing []string
	for _, path := range paths {
		if _, err := os.Stat(path); err != nil {
			missing = append(missing, path)
		}
	}
	return missing
}
