package inittime

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/go-serverless/reference/infra/local/template"
)

// buildFlags are infra/lambda.mk's flags: the benchmark times the binary that is deployed,
// built for this machine instead of linux/arm64.
var buildFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w"}

// Build compiles the main packages pkgs (relative to dir, "./cmd/x") in one go build into
// outDir and returns each package's binary.
func Build(ctx context.Context, dir, outDir string, pkgs ...string) (map[string]string, error) {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, err
	}
	args := append([]string{"build"}, buildFlags...)
	args = append(args, "-o", outDir+string(filepath.Separator))
	binaries := make(map[string]string, len(pkgs))
	for _, pkg := range pkgs {
		args = append(args, pkg)
		binaries[pkg] = filepath.Join(outDir, filepath.Base(pkg))
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build %s in %s: %w\n%s", strings.Join(pkgs, " "), dir, err, out)
	}
	return binaries, nil
}

// BuildFunctions compiles every function of fns (CodeUri relative to root, the template's
// directory), one go build per CodeUri, and returns each function's binary by logical ID.
func BuildFunctions(ctx context.Context, root, outDir string, fns []template.Function) (map[string]string, error) {
	byCode := map[string][]template.Function{}
	for _, fn := range fns {
		byCode[fn.CodeURI] = append(byCode[fn.CodeURI], fn)
	}
	binaries := make(map[string]string, len(fns))
	for codeURI, group := range byCode {
		pkgs := make([]string, len(group))
		for i, fn := range group {
			rel, err := filepath.Rel(codeURI, fn.Package)
			if err != nil {
				return nil, err
			}
			pkgs[i] = "./" + filepath.ToSlash(rel)
		}
		out := filepath.Join(outDir, strings.NewReplacer("/", "_", ".", "_").Replace(codeURI))
		built, err := Build(ctx, filepath.Join(root, codeURI), out, pkgs...)
		if err != nil {
			return nil, err
		}
		for i, fn := range group {
			binaries[fn.LogicalID] = built[pkgs[i]]
		}
	}
	return binaries, nil
}
