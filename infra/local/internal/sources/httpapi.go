package sources

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Limits API Gateway and Lambda put on a request, kept locally so a handler that works here
// does not meet them for the first time in AWS.
const (
	// MaxPayload is Lambda's synchronous invocation payload limit (6 MB, request and response).
	MaxPayload = 6 * 1024 * 1024
	// IntegrationTimeout is the HTTP API's maximum integration timeout.
	IntegrationTimeout = 30 * time.Second
)

// Route is one HttpApi event of a function: "METHOD /path/{param}" → function.
type Route struct {
	Method   string // upper case, or ANY
	Path     string // /jobs/{jobId}, /files/{proxy+}
	Function string
	// Authorizer verifies the route's bearer tokens: its API's. Nil leaves the route open: its API
	// has no authorizer, or the event says Auth.Authorizer: NONE.
	Authorizer Authorizer
	// Throttle is the route's limit: its RouteSettings entry, else DefaultRouteSettings.
	Throttle *Throttle
}

// Key is the route key API Gateway uses: "POST /jobs".
func (r Route) Key() string { return r.Method + " " + r.Path }

// Authorizer verifies a bearer token and returns its claims (jwt.Verifier in the runner).
type Authorizer interface {
	Verify(token string) (map[string]any, error)
}

// HTTPAPI serves HTTP APIs on localhost: route matching, each route's JWT authorizer and
// throttling, and the payload format 2.0 request and response. Answers that API Gateway itself
// gives (401, 404, 429, 500, 503) have its JSON shape: {"message": "..."}. The routes of several
// APIs may share one HTTPAPI as long as no two have the same route key: each route carries its own
// API's settings.
type HTTPAPI struct {
	Routes  []Route
	Invoker Invoker
	Log     *slog.Logger
	Region  string
	Now     func() time.Time
}

// ServeHTTP handles one request.
func (a *HTTPAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	route, params, ok := a.match(r.Method, r.URL.Path)
	if !ok {
		gatewayError(w, http.StatusNotFound, "Not Found")
		return
	}
	var claims map[string]any
	if route.Authorizer != nil {
		var err error
		claims, err = authorize(route.Authorizer, r)
		if err != nil {
			a.Log.Info("authorizer rejected request", "route", route.Key(), "reason", err)
			w.Header().Set("www-authenticate", `Bearer error="invalid_token"`)
			gatewayError(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
	}
	if route.Throttle != nil && !route.Throttle.Allow(a.now()) {
		gatewayError(w, http.StatusTooManyRequests, "Too Many Requests")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPayload+1))
	if err != nil {
		gatewayError(w, http.StatusBadRequest, "Bad Request")
		return
	}
	if len(body) > MaxPayload {
		gatewayError(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	event := a.event(r, route, params, claims, body)
	payload, err := json.Marshal(event)
	if err != nil {
		gatewayError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), IntegrationTimeout)
	defer cancel()
	result, err := a.Invoker.Invoke(ctx, route.Function, payload)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		gatewayError(w, http.StatusServiceUnavailable, "Service Unavailable")
		return
	case err != nil:
		a.Log.Error("invoke failed", "route", route.Key(), "function", route.Function, "error", err)
		gatewayError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	case result.Err != nil:
		a.Log.Error("function failed", "route", route.Key(), "function", route.Function, "errorType", result.Err.Type, "errorMessage", result.Err.Message)
		gatewayError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	if err := writeResponse(w, result.Payload); err != nil {
		a.Log.Error("malformed function response", "route", route.Key(), "function", route.Function, "error", err)
		gatewayError(w, http.StatusInternalServerError, "Internal Server Error")
	}
}

func (a *HTTPAPI) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func authorize(auth Authorizer, r *http.Request) (map[string]any, error) {
	header := r.Header.Get("Authorization")
	// API Gateway accepts the token with or without the Bearer prefix.
	token := strings.TrimSpace(strings.TrimPrefix(header, "Bearer "))
	if token == "" {
		return nil, errors.New("no token")
	}
	return auth.Verify(token)
}

// match finds the route for method and path: an exact path first, then the one with most literal
// segments, then greedy {proxy+} paths, as API Gateway prefers the most specific route. On the
// same path a route for the method itself beats ANY, which takes only the methods no route names,
// so the answer never depends on the order of Routes.
func (a *HTTPAPI) match(method, path string) (Route, map[string]string, bool) {
	var best Route
	var bestParams map[string]string
	bestScore := -1
	for _, route := range a.Routes {
		if route.Method != method && route.Method != "ANY" {
			continue
		}
		params, score, ok := matchPath(route.Path, path)
		if !ok {
			continue
		}
		score *= 2
		if route.Method == method {
			score++
		}
		if score > bestScore {
			best, bestParams, bestScore = route, params, score
		}
	}
	return best, bestParams, bestScore >= 0
}

// matchPath matches a request path against a route path; the score counts literal segments,
// so /jobs/latest beats /jobs/{jobId}.
func matchPath(pattern, path string) (map[string]string, int, bool) {
	want := strings.Split(strings.Trim(pattern, "/"), "/")
	got := strings.Split(strings.Trim(path, "/"), "/")
	params := map[string]string{}
	score := 0
	for i, seg := range want {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "+}") {
			if i >= len(got) {
				return nil, 0, false
			}
			params[strings.TrimSuffix(strings.TrimPrefix(seg, "{"), "+}")] = strings.Join(got[i:], "/")
			return params, score, true
		}
		if i >= len(got) {
			return nil, 0, false
		}
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			if got[i] == "" {
				return nil, 0, false
			}
			params[strings.Trim(seg, "{}")] = got[i]
			continue
		}
		if seg != got[i] {
			return nil, 0, false
		}
		score++
	}
	if len(got) != len(want) {
		return nil, 0, false
	}
	return params, score + 1, true
}

// event builds the payload format 2.0 request.
func (a *HTTPAPI) event(r *http.Request, route Route, params map[string]string, claims map[string]any, body []byte) events.APIGatewayV2HTTPRequest {
	now := a.now()
	headers := map[string]string{}
	var cookies []string
	for name, values := range r.Header {
		if strings.EqualFold(name, "Cookie") {
			for _, v := range values {
				for _, c := range strings.Split(v, ";") {
					cookies = append(cookies, strings.TrimSpace(c))
				}
			}
			continue
		}
		headers[strings.ToLower(name)] = strings.Join(values, ",")
	}
	headers["host"] = r.Host
	query := map[string]string{}
	for name, values := range r.URL.Query() {
		query[name] = strings.Join(values, ",")
	}
	sourceIP, _, _ := net.SplitHostPort(r.RemoteAddr)
	event := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       route.Key(),
		RawPath:        r.URL.EscapedPath(),
		RawQueryString: r.URL.RawQuery,
		Cookies:        cookies,
		Headers:        headers,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     route.Key(),
			AccountID:    "000000000000",
			Stage:        "$default",
			RequestID:    requestID(),
			APIID:        "local",
			DomainName:   r.Host,
			DomainPrefix: strings.Split(r.Host, ".")[0],
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(query) > 0 {
		event.QueryStringParameters = query
	}
	if len(params) > 0 {
		event.PathParameters = params
	}
	if claims != nil {
		event.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claimStrings(claims), Scopes: nil},
		}
	}
	if len(body) > 0 {
		if isText(r.Header.Get("Content-Type")) {
			event.Body = string(body)
		} else {
			event.Body = base64.StdEncoding.EncodeToString(body)
			event.IsBase64Encoded = true
		}
	}
	return event
}

// claimStrings flattens claims the way API Gateway hands them to a function: every value a string,
// lists as "[a b]".
func claimStrings(claims map[string]any) map[string]string {
	out := make(map[string]string, len(claims))
	for name, v := range claims {
		if list, ok := v.([]any); ok {
			parts := make([]string, len(list))
			for i, p := range list {
				parts[i] = claimString(p)
			}
			out[name] = "[" + strings.Join(parts, " ") + "]"
			continue
		}
		out[name] = claimString(v)
	}
	return out
}

// claimString is one claim value as text. A float64 (what encoding/json gives an authorizer that
// does not decode with UseNumber) is written in full: fmt.Sprint would turn an exp claim of
// 1741806238 into "1.741806238e+09".
func claimString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	default:
		return fmt.Sprint(v)
	}
}

// isText reports whether API Gateway passes a body of this content type as text rather than base64.
func isText(contentType string) bool {
	if contentType == "" {
		return true
	}
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return strings.HasPrefix(mediaType, "text/") || mediaType == "application/json" ||
		strings.HasSuffix(mediaType, "+json") || mediaType == "application/xml" ||
		mediaType == "application/x-www-form-urlencoded" || mediaType == "application/javascript"
}

// writeResponse writes the function's payload format 2.0 response. A payload without a
// statusCode is, as in API Gateway, a 200 whose JSON body is the payload itself. It returns an
// error only for a malformed response, before writing anything, so that the caller can still
// answer 500; a body on a 204 or 304 is dropped, as HTTP allows none.
func writeResponse(w http.ResponseWriter, payload []byte) error {
	var probe map[string]json.RawMessage
	if json.Unmarshal(payload, &probe) != nil || probe["statusCode"] == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(payload) // a client that has gone away cannot be told otherwise
		return nil
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(payload, &resp); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	// Checked before anything is written: net/http panics on a code outside 100-999, and sends
	// a 1xx as an informational answer followed by an unrelated 200.
	if resp.StatusCode < 200 || resp.StatusCode > 599 {
		return fmt.Errorf("status code %d out of range", resp.StatusCode)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		decoded, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return fmt.Errorf("decode base64 body: %w", err)
		}
		body = decoded
	}
	names := make([]string, 0, len(resp.Headers))
	for name := range resp.Headers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		w.Header().Set(name, resp.Headers[name])
	}
	for name, values := range resp.MultiValueHeaders {
		for _, v := range values {
			w.Header().Add(name, v)
		}
	}
	for _, c := range resp.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	w.WriteHeader(resp.StatusCode)
	if len(body) > 0 && resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusNotModified {
		_, _ = w.Write(body) // a client that has gone away cannot be told otherwise
	}
	return nil
}

func gatewayError(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": message})
}

func requestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Throttle is a token bucket with API Gateway's two settings: RateLimit requests per second on
// average, BurstLimit at once.
type Throttle struct {
	Rate  float64
	Burst int

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// NewThrottle returns a full bucket.
func NewThrottle(rate float64, burst int) *Throttle {
	return &Throttle{Rate: rate, Burst: burst, tokens: float64(burst)}
}

// Allow takes a token if one is left at now.
func (t *Throttle) Allow(now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.last.IsZero() {
		t.tokens = min(float64(t.Burst), t.tokens+now.Sub(t.last).Seconds()*t.Rate)
	}
	t.last = now
	if t.tokens < 1 {
		return false
	}
	t.tokens--
	return true
}
