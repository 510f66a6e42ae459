#!/usr/bin/env bash
# Deletes a stack `make deploy` made, buckets and all: `make delete STAGE=<name>` runs it.
#
# CloudFormation does not delete a bucket that still holds objects: the stack would end
# DELETE_FAILED. So every bucket the stack, or a stack nested in it, names in an output whose key
# ends in BucketName is emptied first (a new bucket is covered once it has such an output), then
# `sam delete` deletes the stack, its nested stacks and what `sam deploy` uploaded for it. The root
# template.yaml nests each service as a stack of its own, whose outputs name the service's buckets;
# a service deployed alone (make deploy SERVICE=<svc>) names them itself. S3 delivers server access
# logs minutes after the requests they record, so an access log bucket can fill again while the
# stack is being deleted: when the delete fails on buckets, those buckets are emptied again and the
# delete is tried once more.
#
# The buckets are not versioned; `aws s3 rm` removes current objects only, so a bucket given
# versioning would also need its object versions and delete markers removed.
#
# Needs the SAM CLI, the AWS CLI (v1 or v2: `aws s3 rm` is how AWS's own documentation empties a
# bucket) and credentials for the stack's account and region.
#
# Usage: infra/delete-stack.sh <stack-name>
set -euo pipefail

stack=${1:?usage: $0 <stack-name>}

# empty removes every object from each bucket named; a bucket already gone is skipped.
empty() {
  local bucket
  for bucket in "$@"; do
    if ! aws s3api head-bucket --bucket "$bucket" >/dev/null 2>&1; then
      echo "s3://$bucket: gone already or not accessible; not emptied"
      continue
    fi
    echo "emptying s3://$bucket"
    aws s3 rm "s3://$bucket" --recursive --only-show-errors
  done
}

# collect appends the stack named to stacks, then every stack nested in it, depth first. A nested
# stack is a resource of type AWS::CloudFormation::Stack whose physical ID is the nested stack's
# ARN, which still names it once it is deleted. DescribeStackResources answers with up to 100
# resources, more than any stack here holds.
stacks=()
collect() {
  local nested child
  stacks+=("$1")
  nested=$(aws cloudformation describe-stack-resources --stack-name "$1" \
    --query "StackResources[?ResourceType=='AWS::CloudFormation::Stack'].PhysicalResourceId" --output text)
  if [ "$nested" = None ]; then
    return
  fi
  for child in $nested; do
    collect "$child"
  done
}
collect "$stack"

# Text output lists the values separated by tabs; "None" when a stack has no outputs.
buckets=
for s in "${stacks[@]}"; do
  named=$(aws cloudformation describe-stacks --stack-name "$s" \
    --query "Stacks[0].Outputs[?ends_with(OutputKey, 'BucketName')].OutputValue" --output text)
  if [ -n "$named" ] && [ "$named" != None ]; then
    buckets="${buckets:+$buckets }$named"
  fi
done
# shellcheck disable=SC2086 # one word per bucket name
empty $buckets

status=0
sam delete --stack-name "$stack" --no-prompts || status=$?
if [ "$status" -eq 0 ]; then
  exit 0
fi

# The buckets whose deletion failed, by name (a bucket's physical ID is its name), in the stack and
# the stacks nested in it: a nested stack that fails to delete fails its root's delete.
failed=
for s in "${stacks[@]}"; do
  named=$(aws cloudformation describe-stack-resources --stack-name "$s" \
    --query "StackResources[?ResourceType=='AWS::S3::Bucket' && ResourceStatus=='DELETE_FAILED'].PhysicalResourceId" \
    --output text) || exit "$status"
  if [ -n "$named" ] && [ "$named" != None ]; then
    failed="${failed:+$failed }$named"
  fi
done
if [ -z "$failed" ]; then
  exit "$status"
fi
echo "the delete failed on buckets that filled again (server access logs arrive late): $failed"
echo "emptying them and deleting the stack once more"
# shellcheck disable=SC2086
empty $failed
sam delete --stack-name "$stack" --no-prompts
