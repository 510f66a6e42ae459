# How a Lambda function is built, in one place. Every service's Makefile sets SERVICE_DIR to its
# own folder and includes this file.
#
# sam build (Metadata BuildMethod: makefile) runs `make --makefile <CodeUri>/Makefile
# build-<LogicalId>` with ARTIFACTS_DIR in the environment, in the CodeUri folder when
# build_in_source is set (samconfig.toml) and in a scratch copy of it otherwise. The repository's
# naming convention maps the logical ID to the main package: SubmitJobFunction → cmd/submit-job.
# `make build` at the root runs the same targets the same way (tests/sambuild), so CI builds
# exactly what SAM would ship.

# Static binary for provided.al2023 on arm64; lambda.norpc drops the RPC shim the go1.x runtime
# needed; -trimpath keeps build paths out of the binary.
LAMBDA_GOFLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w'

ifeq ($(SERVICE_DIR),)
$(error SERVICE_DIR is not set: the service's Makefile sets it to its own folder before including lambda.mk)
endif

# kebab turns a logical ID without its Function suffix into the cmd folder's name, as
# infra/local/template.PackageName does: SubmitJob → submit-job, GetURL → get-url,
# URLParser → url-parser, ResizeS3Image → resize-s3-image.
kebab = $(shell echo '$(1)' | sed -E 's/([A-Z]+)([A-Z][a-z])/\1-\2/g; s/([a-z0-9])([A-Z])/\1-\2/g' | tr 'A-Z' 'a-z')

# The build runs in the service's own folder (SERVICE_DIR), not in the current directory. Without
# build_in_source the current directory is SAM's scratch copy of the folder, and there the
# module cannot build: its go.mod replaces ../../shared, and go.work sits at the repository root,
# neither of which is next to the copy. The folder the Makefile came from is the source the copy
# was made from, so building there ships the same code and works with or without build_in_source.
# ARTIFACTS_DIR is made absolute first, since the build changes directory.
build-%Function:
	@test -n "$(ARTIFACTS_DIR)" || { echo "$*Function: ARTIFACTS_DIR is not set (sam build sets it)" >&2; exit 1; }
	@test -d "$(SERVICE_DIR)/cmd/$(call kebab,$*)" || { echo "$*Function: no main package at $(SERVICE_DIR)/cmd/$(call kebab,$*) (XxxYyyFunction lives in <CodeUri>/cmd/xxx-yyy)" >&2; exit 1; }
	cd "$(SERVICE_DIR)/cmd/$(call kebab,$*)" && CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build $(LAMBDA_GOFLAGS) -o "$(abspath $(ARTIFACTS_DIR))/bootstrap" .
