// Package sambuild builds every function of template.yaml the way `sam build` does, and checks
// what each build leaves behind is a deployable provided.al2023 arm64 bootstrap.
//
// SAM CLI is not available where CI runs, so its makefile builder is emulated: for each
// AWS::Serverless::Function (BuildMethod: makefile), `make --makefile <CodeUri>/Makefile
// build-<LogicalId>` runs in the CodeUri folder (samconfig.toml sets build_in_source) with
// ARTIFACTS_DIR in the environment naming a new empty folder. The folder must then hold exactly
// one file, bootstrap: an executable, statically linked ELF for aarch64. `make build` runs these
// tests with SAMBUILD_OUT=bin, which keeps each artifact at bin/<LogicalId>/bootstrap.
//
// Like sam build, it builds the functions of every nested application (AWS::Serverless::Application
// with a local Location) too, each CodeUri read relative to the template that declares it: the
// templates are read with the local runner's loader, infra/local/template.LoadApp.
package sambuild
