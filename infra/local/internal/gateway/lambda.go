package gateway

import (
	"fmt"
	"net/http"
	"strings"
)

// classifyLambda maps a Lambda Invoke request (POST /2015-03-31/functions/<function>/invocations,
// or the response-streaming form) to lambda:InvokeFunction on the function. <function> is a name,
// a partial ARN (<account>:function:<name>) or an ARN, each optionally followed by :<qualifier>;
// a Qualifier query parameter qualifies too. The resource is the qualified ARN when the request is
// qualified: Lambda authorizes the ARN the caller used, so a policy on the unqualified ARN does
// not allow invoking an alias or version (Lambda Developer Guide, "Resources and conditions for
// Lambda actions").
func classifyLambda(r *http.Request, env environment) ([]Access, error) {
	path := r.URL.Path
	var rest string
	for _, prefix := range []string{"/2015-03-31/functions/", "/2021-11-15/functions/"} {
		if p, ok := strings.CutPrefix(path, prefix); ok {
			rest = p
		}
	}
	function, suffix, _ := strings.Cut(rest, "/")
	if r.Method != http.MethodPost || function == "" ||
		(suffix != "invocations" && suffix != "response-streaming-invocations") {
		return nil, fmt.Errorf("lambda %s %s: only Invoke is classified: %w", r.Method, path, ErrUnsupported)
	}

	region, account := env.region, env.account
	parts := strings.Split(function, ":")
	var name, qualifier string
	switch {
	case (len(parts) == 7 || len(parts) == 8) && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function":
		// arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]
		region, account, name = parts[3], parts[4], parts[6]
		if len(parts) == 8 {
			qualifier = parts[7]
		}
	case (len(parts) == 3 || len(parts) == 4) && parts[1] == "function":
		// <account>:function:<name>[:<qualifier>]
		account, name = parts[0], parts[2]
		if len(parts) == 4 {
			qualifier = parts[3]
		}
	case len(parts) <= 2:
		name = parts[0]
		if len(parts) == 2 {
			qualifier = parts[1]
		}
	}
	if name == "" {
		return nil, fmt.Errorf("lambda function %q is not a name or ARN: %w", function, ErrMalformed)
	}
	if q := r.URL.Query().Get("Qualifier"); q != "" {
		if qualifier != "" && qualifier != q {
			return nil, fmt.Errorf("lambda function %q with Qualifier %q: %w", function, q, ErrMalformed)
		}
		qualifier = q
	}
	resource := env.arn("lambda", region, account, "function:"+name)
	if qualifier != "" {
		resource += ":" + qualifier
	}
	return []Access{{Action: "lambda:InvokeFunction", Resource: resource, Context: env.context()}}, nil
}
