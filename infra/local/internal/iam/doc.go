// Package iam decides, as AWS would, whether a function's execution role may perform an action on
// a resource, so that the local runner can refuse what AWS would refuse.
//
// The local stand-ins (DynamoDB Local, fauxqs, versitygw) accept any credentials, so without this
// package nothing local enforces IAM: a handler that calls an action its role was never granted, or
// a resource its policy does not name, passed every local run and got AccessDenied only once
// deployed. The package reads the policies CloudFormation would attach to each function's role
// (FunctionPolicies: the role's inline policies, AWS::IAM::Policy, ManagedPolicy and RolePolicy
// resources naming it, and what SAM adds to the role it generates) and the template's bucket,
// queue and topic policies (ResourcePolicies), and evaluates requests against them with AWS's
// documented logic for a request within one account: an explicit Deny anywhere wins, then an Allow
// in the identity policies or in the resource policy, otherwise an implicit deny.
//
// ParsePolicy refuses what IAM refuses, and also what this package cannot evaluate (a condition
// key or operator it does not know, a managed policy whose statements it does not hold), so that
// a policy it cannot judge is an error at start-up rather than a check that silently passes.
//
// Out of scope, and not modelled at all: AWS Organizations SCPs and RCPs, permissions boundaries
// (a function or role that sets one is refused), session policies, cross-account requests, KMS key
// policies and grants, S3 ACLs and Block Public Access, VPC endpoint policies, and the condition keys
// and operators not listed in KnownConditionKey and ParsePolicy's documentation. Decisions are only
// as good as the request context the caller supplies: a condition key the caller leaves out of
// Request.Context is absent, exactly as it would be absent on AWS.
package iam
