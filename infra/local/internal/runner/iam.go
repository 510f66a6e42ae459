package runner

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/go-serverless/reference/infra/local/internal/gateway"
	"github.com/go-serverless/reference/infra/local/internal/iam"
	"github.com/go-serverless/reference/infra/local/internal/lambdapool"
	"github.com/go-serverless/reference/infra/local/internal/provision"
	"github.com/go-serverless/reference/infra/local/internal/standins"
	"github.com/go-serverless/reference/infra/local/template"
)

// Local IAM enforcement. On AWS every call a function makes is signed with its execution role's
// keys and IAM decides; the stand-ins decide nothing. So the runner gives each function keys of
// its own, puts a gateway in front of every stand-in that evaluates the function's role policies
// (from the template) for each request, and checks at start what Lambda checks when it creates an
// event source mapping. A call the role does not allow fails here as it would on AWS.

// functionRole is one function's execution role as the local IAM enforcement sees it.
type functionRole struct {
	logicalID string
	// name is the function's name: the session name in its assumed-role ARN.
	name string
	// role is the role's name; arn the assumed-role ARN that error messages name; roleARN the
	// role's own ARN (aws:PrincipalArn of its sessions).
	role, arn, roleARN string
	keys               lambdapool.Credentials
	policies           []iam.Policy
}

// identities are every function's keys and role policies, and the resource policies that apply
// to their requests.
type identities struct {
	byLogicalID map[string]*functionRole
	byKey       map[string]*functionRole
	// resourcePolicies are the bucket, queue and topic policies, by bucket name, queue URL or topic ARN.
	resourcePolicies map[string]iam.Policy
	resources        *provision.Resources
}

// newIdentities gives every function keys of its own. The secret is random per run: nothing
// outside the runner can sign as a function.
func newIdentities(functions []template.Function) (*identities, error) {
	ids := &identities{byLogicalID: map[string]*functionRole{}, byKey: map[string]*functionRole{}}
	for _, fn := range functions {
		secret := make([]byte, 20)
		if _, err := rand.Read(secret); err != nil {
			return nil, fmt.Errorf("generate keys for %s: %w", fn.LogicalID, err)
		}
		r := &functionRole{
			logicalID: fn.LogicalID,
			// The key id names the function for log lines. Lambda's role-session keys start with ASIA
			// and come with a session token; versitygw (v1.8) then demands a token it issued itself,
			// so local keys are long-term ones (AKIA), without a token.
			keys: lambdapool.Credentials{AccessKeyID: "AKIA" + strings.ToUpper(fn.LogicalID), SecretAccessKey: hex.EncodeToString(secret)},
		}
		ids.byLogicalID[fn.LogicalID] = r
		ids.byKey[r.keys.AccessKeyID] = r
	}
	return ids, nil
}

// versityAccounts are the functions' keys, for the S3 stand-in to accept their signatures.
func (ids *identities) versityAccounts() []standins.VersityAccount {
	out := make([]standins.VersityAccount, 0, len(ids.byKey))
	for _, r := range ids.byKey {
		out = append(out, standins.VersityAccount{AccessKey: r.keys.AccessKeyID, SecretKey: r.keys.SecretAccessKey})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].AccessKey < out[j].AccessKey })
	return out
}

// load reads every function's role policies and the resource policies, once the resources they
// name are provisioned. A policy the evaluator cannot read (an unknown condition key, a managed
// policy) stops the runner: it must never silently allow.
func (ids *identities) load(tmpl *template.Template, b *template.Bindings, functions []template.Function, res *provision.Resources) error {
	ids.resources = res
	for _, fn := range functions {
		r := ids.byLogicalID[fn.LogicalID]
		policies, err := iam.FunctionPolicies(tmpl, b, fn)
		if err != nil {
			return err
		}
		r.policies = policies
		r.name = res.FunctionNames[fn.LogicalID]
		roleID, err := iam.RoleLogicalID(tmpl, fn)
		if err != nil {
			return fmt.Errorf("function %s: %w", fn.LogicalID, err)
		}
		if roleID == "" {
			// SAM names the role it generates <LogicalId>Role; provisioning named it in the
			// function's own stack, as CloudFormation would.
			roleID = fn.LogicalID + "Role"
		}
		if r.role = res.RoleNames[roleID]; r.role == "" {
			return fmt.Errorf("function %s: its role %s has no name: it was not provisioned", fn.LogicalID, roleID)
		}
		r.arn = fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", template.Partition, template.AccountID, r.role, r.name)
		r.roleARN = fmt.Sprintf("arn:%s:iam::%s:role/%s", template.Partition, template.AccountID, r.role)
		for _, p := range policies {
			if err := checkConditionKeys(p, false); err != nil {
				return fmt.Errorf("function %s: %w", fn.LogicalID, err)
			}
		}
	}
	policies, err := iam.ResourcePolicies(tmpl, b)
	if err != nil {
		return err
	}
	for _, p := range policies {
		if err := checkConditionKeys(p, true); err != nil {
			return err
		}
	}
	ids.resourcePolicies = policies
	return nil
}

// suppliedConditionKeys are the condition keys a function's requests carry locally: those the
// gateways fill from the request and those decide adds. The evaluator knows more keys; one of
// those in a statement that can apply to a function would be missing here and present on AWS,
// and a condition on a missing key can allow what AWS denies (ForAllValues holds on a missing
// key) or skip a deny, so such a statement stops the runner instead.
var suppliedConditionKeys = map[string]bool{
	"aws:securetransport": true, "aws:requestedregion": true, "aws:principalarn": true, "aws:principalaccount": true,
	"s3:prefix": true, "s3:delimiter": true, "s3:max-keys": true, "s3:authtype": true, "s3:signatureversion": true,
	"s3:x-amz-content-sha256": true, "s3:x-amz-server-side-encryption": true, "s3:x-amz-server-side-encryption-aws-kms-key-id": true,
	"kms:viaservice": true, "kms:calleraccount": true,
}

// checkConditionKeys refuses a statement that can apply to a function and names a condition key
// the local requests do not carry. In a resource policy, statements whose principals are all AWS
// services (CloudWatch publishing to a topic, S3 writing access logs) never apply to a function.
func checkConditionKeys(p iam.Policy, resourcePolicy bool) error {
	for i, st := range p.Statements {
		if resourcePolicy && onlyServicePrincipals(st.Principals) {
			continue
		}
		for _, c := range st.Conditions {
			if !suppliedConditionKeys[strings.ToLower(c.Key)] {
				return fmt.Errorf("%s statement %d: condition key %s is not emulated locally (a function's requests never carry it here, but do on AWS); the local IAM enforcement cannot evaluate this statement faithfully", p.Source, i, c.Key)
			}
		}
	}
	return nil
}

// onlyServicePrincipals reports whether every principal is an AWS service.
func onlyServicePrincipals(principals []string) bool {
	if len(principals) == 0 {
		return false
	}
	for _, p := range principals {
		if !strings.HasPrefix(p, "service:") {
			return false
		}
	}
	return true
}

// decide evaluates one access by a function: its identity policies and the policy of the
// resource, as AWS does within one account.
func (ids *identities) decide(r *functionRole, a gateway.Access) (allowed, explicitDeny bool) {
	ctx := make(map[string][]string, len(a.Context)+2)
	maps.Copy(ctx, a.Context)
	ctx["aws:PrincipalArn"] = []string{r.roleARN}
	ctx["aws:PrincipalAccount"] = []string{template.AccountID}
	req := iam.Request{Action: a.Action, Resource: a.Resource, Context: ctx}
	var d iam.Decision
	if p, ok := ids.resourcePolicyFor(a.Resource); ok {
		d = iam.EvaluateWithResourcePolicy(req, r.arn, r.policies, &p)
	} else {
		d = iam.Evaluate(req, r.policies...)
	}
	return d == iam.Allow, d == iam.ExplicitDeny
}

// resourcePolicyFor finds the bucket, queue or topic policy that governs resource (an ARN).
func (ids *identities) resourcePolicyFor(resource string) (iam.Policy, bool) {
	switch {
	case strings.HasPrefix(resource, "arn:"+template.Partition+":s3:::"):
		bucket, _, _ := strings.Cut(strings.TrimPrefix(resource, "arn:"+template.Partition+":s3:::"), "/")
		p, ok := ids.resourcePolicies[bucket]
		return p, ok
	case strings.Contains(resource, ":sqs:"):
		q, ok := ids.resources.QueueByARN(resource)
		if !ok {
			return iam.Policy{}, false
		}
		p, ok := ids.resourcePolicies[q.URL]
		return p, ok
	case strings.Contains(resource, ":sns:"):
		p, ok := ids.resourcePolicies[resource]
		return p, ok
	}
	return iam.Policy{}, false
}

// allows reports whether fn's role allows action on resource, for the start-up checks.
func (ids *identities) allows(logicalID, action, resource string) bool {
	r := ids.byLogicalID[logicalID]
	allowed, _ := ids.decide(r, gateway.Access{Action: action, Resource: resource, Context: map[string][]string{"aws:SecureTransport": {"true"}}})
	return allowed
}

// caller is what the gateways know of the function that signed with key.
func (ids *identities) caller(key string) (gateway.Caller, bool) {
	r, ok := ids.byKey[key]
	if !ok {
		return gateway.Caller{}, false
	}
	return gateway.Caller{
		Name:      r.logicalID,
		ARN:       r.arn,
		Authorize: func(a gateway.Access) (bool, bool) { return ids.decide(r, a) },
	}, true
}

// checkEventSources refuses to start when a function's role cannot do what Lambda does on its
// behalf, with the error AWS gives when CloudFormation creates the mapping or the configuration:
// poll its queue, read its stream, send to its destinations.
func (ids *identities) checkEventSources(w *wiring) error {
	var problems []string
	for _, fe := range w.events("SQS") {
		p, err := w.resolvedEvent(fe)
		if err != nil {
			return err
		}
		queue := fmt.Sprint(p["Queue"])
		for _, action := range []string{"ReceiveMessage", "DeleteMessage", "GetQueueAttributes"} {
			if !ids.allows(fe.fn.LogicalID, "sqs:"+action, queue) {
				problems = append(problems, fmt.Sprintf("function %s event %s: Invalid request provided: The provided execution role does not have permissions to call %s on SQS (%s)", fe.fn.LogicalID, fe.event.Name, action, queue))
			}
		}
	}
	for _, fe := range w.events("DynamoDB") {
		p, err := w.resolvedEvent(fe)
		if err != nil {
			return err
		}
		stream := fmt.Sprint(p["Stream"])
		// Lambda's error text also names ListStreams, but IAM authorises that action only on "*"
		// (it has no resource type) and Lambda reads the stream the mapping names without it:
		// SAM's own DynamoDBStreamReadPolicy grants it on a pattern that matches nothing.
		for _, action := range []string{"GetRecords", "GetShardIterator", "DescribeStream"} {
			if !ids.allows(fe.fn.LogicalID, "dynamodb:"+action, stream) {
				problems = append(problems, fmt.Sprintf("function %s event %s: Cannot access stream %s. Please ensure the role can perform the GetRecords, GetShardIterator, DescribeStream, and ListStreams Actions on your stream in IAM (dynamodb:%s is not allowed)", fe.fn.LogicalID, fe.event.Name, stream, action))
				break
			}
		}
		destination, _ := p["DestinationConfig"].(map[string]template.Value)
		if onFailure, ok := destination["OnFailure"].(map[string]template.Value); ok {
			problems = append(problems, ids.checkDestination(fe.fn.LogicalID, "event "+fe.event.Name+" OnFailure", fmt.Sprint(onFailure["Destination"]))...)
		}
	}
	for _, fn := range w.functions {
		resolved, err := w.bindings.Resolve(fn.Properties["EventInvokeConfig"])
		if err != nil {
			return fmt.Errorf("function %s EventInvokeConfig: %w", fn.LogicalID, err)
		}
		props, _ := resolved.(map[string]template.Value)
		destinations, _ := props["DestinationConfig"].(map[string]template.Value)
		for _, kind := range []string{"OnFailure", "OnSuccess"} {
			if d, ok := destinations[kind].(map[string]template.Value); ok {
				problems = append(problems, ids.checkDestination(fn.LogicalID, "EventInvokeConfig "+kind, fmt.Sprint(d["Destination"]))...)
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("IAM: Lambda would refuse these (make run IAM=false turns enforcement off):\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

// checkDestination checks that a function's role may send to a destination, as Lambda requires.
func (ids *identities) checkDestination(logicalID, where, arn string) []string {
	var action string
	switch {
	case strings.Contains(arn, ":sqs:"):
		action = "sqs:SendMessage"
	case strings.Contains(arn, ":sns:"):
		action = "sns:Publish"
	case strings.Contains(arn, ":lambda:"):
		action = "lambda:InvokeFunction"
	case strings.Contains(arn, ":events:"):
		action = "events:PutEvents"
	default:
		return nil
	}
	if ids.allows(logicalID, action, arn) {
		return nil
	}
	return []string{fmt.Sprintf("function %s %s: The function's execution role does not have permissions to call %s on %s", logicalID, where, strings.TrimPrefix(action, action[:strings.Index(action, ":")+1]), arn)}
}

// startGateways puts a gateway in front of each stand-in endpoint and returns the endpoints
// functions must use instead.
func (r *Runner) startGateways(ids *identities, endpoints map[string]string, res *provision.Resources, kmsKeys map[string]string, region string) (map[string]string, error) {
	out := map[string]string{}
	services := make([]string, 0, len(endpoints))
	for s := range endpoints {
		services = append(services, s)
	}
	sort.Strings(services)
	for _, service := range services {
		upstream, err := url.Parse(endpoints[service])
		if err != nil {
			return nil, fmt.Errorf("gateway %s: %w", service, err)
		}
		g, err := gateway.New(gateway.Config{
			Service: service, Upstream: upstream, Region: region, Account: template.AccountID,
			Callers: ids.caller,
			Trusted: func(key string) bool { return key == AccessKeyID },
			QueueARN: func(queueURL string) (string, bool) {
				for _, q := range res.Queues {
					if q.URL == queueURL {
						return q.ARN, true
					}
				}
				return "", false
			},
			BucketKMSKey: func(bucket string) string { return kmsKeys[bucket] },
			Log:          r.log,
			Faults:       r.Faults,
		})
		if err != nil {
			return nil, fmt.Errorf("gateway %s: %w", service, err)
		}
		listener, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("gateway %s: %w", service, err)
		}
		srv := &http.Server{Handler: g, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := srv.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
				r.log.Error("IAM gateway stopped", "service", service, "error", err)
			}
		}()
		r.gateways = append(r.gateways, srv)
		out[service] = "http://" + listener.Addr().String()
	}
	return out, nil
}

// bucketKMSKeys maps each bucket whose default encryption is SSE-KMS to its key's ARN: S3 then
// uses the key with the caller's permissions (kms:GenerateDataKey to write, kms:Decrypt to read).
func bucketKMSKeys(tmpl *template.Template, b *template.Bindings, res *provision.Resources) (map[string]string, error) {
	out := map[string]string{}
	for id, bucket := range res.Buckets {
		enc := tmpl.Resources[id].Properties["BucketEncryption"]
		if enc == nil {
			continue
		}
		resolved, err := b.Resolve(enc)
		if err != nil {
			return nil, fmt.Errorf("bucket %s BucketEncryption: %w", id, err)
		}
		m, _ := resolved.(map[string]template.Value)
		rules, _ := m["ServerSideEncryptionConfiguration"].([]template.Value)
		for _, rule := range rules {
			rm, _ := rule.(map[string]template.Value)
			def, _ := rm["ServerSideEncryptionByDefault"].(map[string]template.Value)
			if alg := fmt.Sprint(def["SSEAlgorithm"]); alg != "aws:kms" && alg != "aws:kms:dsse" {
				continue
			}
			key, _ := def["KMSMasterKeyID"].(string)
			if key == "" {
				// S3's AWS managed key: its key policy lets any caller allowed the S3 call use it.
				continue
			}
			out[bucket.Name] = key
		}
	}
	return out, nil
}
