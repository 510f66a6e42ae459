package inittime

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// AWSEndpoint stands in for every AWS service a cold start may call, through the SDK's
// AWS_ENDPOINT_URL. It either answers every call at once (SSM GetParameter with a value, anything
// else with an empty JSON object) or never answers, the worst case of an unreachable service.
type AWSEndpoint struct {
	srv  *httptest.Server
	stop chan struct{}
}

// SDKKey is the value AWSEndpoint gives for every SSM parameter: shaped like a LaunchDarkly
// server-side SDK key, which is the one parameter a cold start here reads.
const SDKKey = "sdk-00000000-0000-4000-8000-000000000000"

// NewAWSEndpoint starts an AWSEndpoint that answers at once, or, with hang, never.
func NewAWSEndpoint(hang bool) *AWSEndpoint {
	e := &AWSEndpoint{stop: make(chan struct{})}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hang {
			e.hold(r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if r.Header.Get("X-Amz-Target") == "AmazonSSM.GetParameter" {
			var in struct{ Name string }
			_ = json.Unmarshal(body, &in)
			_ = json.NewEncoder(w).Encode(map[string]any{"Parameter": map[string]any{
				"Name": in.Name, "Type": "SecureString", "Value": SDKKey, "Version": 1,
			}})
			return
		}
		_, _ = io.WriteString(w, "{}")
	}))
	return e
}

// hold keeps a request unanswered until its caller gives up or the endpoint closes.
func (e *AWSEndpoint) hold(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-e.stop:
	}
}

// Env points a program's AWS SDK at the endpoint, for every service.
func (e *AWSEndpoint) Env() map[string]string {
	return map[string]string{"AWS_ENDPOINT_URL": e.srv.URL}
}

// Close stops the endpoint, ending any call it holds.
func (e *AWSEndpoint) Close() {
	close(e.stop)
	e.srv.Close()
}

// Internet stands in for every HTTPS service outside AWS a cold start may call (LaunchDarkly
// here): programs get it as their HTTPS_PROXY, and SSL_CERT_FILE trusts its certificate for the
// hosts it serves. It either answers at once (a GET with an empty LaunchDarkly flag set, anything
// else 202 Accepted) or never: the proxy accepts connections and says nothing, as a network that
// drops packets would. Go's net/http honours both variables, so no program needs a setting of its
// own for it.
type Internet struct {
	ln       net.Listener
	site     *httptest.Server
	certFile string
	hang     bool

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// NewInternet starts an Internet serving hosts (names, "*.example.com" wildcards), writing its
// certificate into dir. With hang it never answers.
func NewInternet(dir string, hang bool, hosts ...string) (*Internet, error) {
	cert, certPEM, err := selfSigned(hosts)
	if err != nil {
		return nil, err
	}
	certFile := filepath.Join(dir, "internet-cert.pem")
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	site := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Method != http.MethodGet {
			w.WriteHeader(http.StatusAccepted) // analytics and diagnostic events
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"flags":{},"segments":{}}`) // LaunchDarkly's polling answer
	}))
	site.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	// A program killed mid-handshake is how every start ends here, not an error worth a line.
	site.Config.ErrorLog = log.New(io.Discard, "", 0)
	site.StartTLS()
	i := &Internet{ln: ln, site: site, certFile: certFile, hang: hang, conns: map[net.Conn]struct{}{}}
	i.wg.Add(1)
	go i.accept()
	return i, nil
}

// Env makes a program's HTTPS calls go through the proxy and trust the site's certificate.
func (i *Internet) Env() map[string]string {
	return map[string]string{"HTTPS_PROXY": "http://" + i.ln.Addr().String(), "SSL_CERT_FILE": i.certFile}
}

// Close stops the proxy and the site, closing every connection.
func (i *Internet) Close() {
	i.mu.Lock()
	i.closed = true
	for c := range i.conns {
		_ = c.Close()
	}
	i.mu.Unlock()
	_ = i.ln.Close()
	i.wg.Wait()
	i.site.Close()
}

func (i *Internet) accept() {
	defer i.wg.Done()
	for {
		c, err := i.ln.Accept()
		if err != nil {
			return // closed
		}
		if !i.track(c) {
			return
		}
		i.wg.Add(1)
		go func() {
			defer i.wg.Done()
			defer i.untrack(c)
			i.serve(c)
		}()
	}
}

// serve answers one proxy connection: a CONNECT tunnelled to the site, or, with hang, nothing.
func (i *Internet) serve(c net.Conn) {
	if i.hang {
		_, _ = io.Copy(io.Discard, c) // until the program goes or Close closes c
		return
	}
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	if req.Method != http.MethodConnect {
		_, _ = io.WriteString(c, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
		return
	}
	upstream, err := net.Dial("tcp", i.site.Listener.Addr().String())
	if err != nil {
		_, _ = io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		return
	}
	if !i.track(upstream) {
		return
	}
	defer i.untrack(upstream)
	if _, err := io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(upstream, br)
		_ = upstream.Close()
		close(done)
	}()
	_, _ = io.Copy(c, upstream)
	_ = c.Close()
	<-done
}

// track records c so that Close can close it; it closes c and reports false once closed.
func (i *Internet) track(c net.Conn) bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.closed {
		_ = c.Close()
		return false
	}
	i.conns[c] = struct{}{}
	return true
}

func (i *Internet) untrack(c net.Conn) {
	i.mu.Lock()
	defer i.mu.Unlock()
	_ = c.Close()
	delete(i.conns, c)
}

// selfSigned makes a certificate for hosts that is its own authority, so that trusting it
// (SSL_CERT_FILE) is all a client needs.
func selfSigned(hosts []string) (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: "cold-start benchmark"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              hosts,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("make a certificate: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, certPEM, nil
}
