# How a Lambda function is built, in one place. Every service's Makefile includes this file.
#
# sam build (Metadata BuildMethod: makefile, build_in_source in samconfig.toml) runs
# `make build-<LogicalId>` in the service folder with ARTIFACTS_DIR set; the repository's naming
# convention maps the logical ID to the main package: SubmitJobFunction → ./cmd/submit-job.
# `make build` at the root calls build-cmd-<dir> for every ./cmd/<dir>, so CI compiles exactly
# what SAM would ship.

# Static binary for provided.al2023 on arm64; lambda.norpc drops the RPC shim the go1.x runtime
# needed; -trimpath keeps build paths out of the binary.
LAMBDA_GOFLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w'

kebab = $(shell echo '$(1)' | sed -E 's/([a-z0-9])([A-Z])/\1-\2/g' | tr 'A-Z' 'a-z')

build-%Function:
	$(MAKE) build-cmd-$(call kebab,$*)

build-cmd-%:
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set"; exit 1; }
	cd cmd/$* && CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build $(LAMBDA_GOFLAGS) -o $(ARTIFACTS_DIR)/bootstrap .
