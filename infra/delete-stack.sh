#!/usr/bin/env bash
# Deletes a stack `make deploy` made, buckets and all: `make delete STAGE=<name>` runs it.
#
# CloudFormation does not delete a bucket that still holds objects: the stack would end
# DELETE_FAILED. So every bucket the stack names in an output whose key ends in BucketName is
# emptied first (a new bucket is covered once it has such an output), then `sam delete` deletes
# the stack and what `sam deploy` uploaded for it. S3 delivers server access logs minutes after
# the requests they record, so the access log bucket can fill again while the stack is being
# deleted: when the delete fails on buckets, those buckets are emptied again and the delete is
# tried once more.
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

# Text output lists the values separated by tabs; "None" when the stack has no outputs.
buckets=$(aws cloudformation describe-stacks --stack-name "$stack" \
  --query "Stacks[0].Outputs[?ends_with(OutputKey, 'BucketName')].OutputValue" --output text)
if [ "$buckets" = None ]; then
  buckets=
fi
# shellcheck disable=SC2086 # one word per bucket name
empty $buckets

status=0
sam delete --stack-name "$stack" --no-prompts || status=$?
if [ "$status" -eq 0 ]; then
  exit 0
fi

# The buckets whose deletion failed, by name (a bucket's physical ID is its name).
failed=$(aws cloudformation describe-stack-resources --stack-name "$stack" \
  --query "StackResources[?ResourceType=='AWS::S3::Bucket' && ResourceStatus=='DELETE_FAILED'].PhysicalResourceId" \
  --output text) || exit "$status"
if [ -z "$failed" ] || [ "$failed" = None ]; then
  exit "$status"
fi
echo "the delete failed on buckets that filled again (server access logs arrive late): $failed"
echo "emptying them and deleting the stack once more"
# shellcheck disable=SC2086
empty $failed
sam delete --stack-name "$stack" --no-prompts
