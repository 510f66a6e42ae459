// Package standins starts and stops the local stand-ins for AWS services as child processes:
// DynamoDB Local (AWS's own emulator) for DynamoDB, fauxqs for SQS and SNS, and versitygw
// for S3. This package only knows how to run them; turning a template into tables, queues
// and buckets on them, and smoothing over where they differ from AWS, happens elsewhere in
// the runner.
//
// Each Start function launches one stand-in on a port (0 picks a free one), waits until it
// answers a real request, and returns a [Process] whose URL the SDK clients use as their
// endpoint. Each runs in its own process group, so [Process.Stop] ends it together with any
// children it started, first with SIGTERM and then, after a grace period, with SIGKILL. If a
// stand-in exits before it is ready, the error carries the last lines of its output.
//
// # Listening addresses
//
// Every stand-in is reached at 127.0.0.1, but only versitygw can be told to listen there
// alone. DynamoDB Local has no option to choose the address: its launcher builds its Jetty
// server from the port only (checked in v1.25.1: -help lists no host option, and
// DynamoDBProxyServer calls new Server(port)), so it listens on all interfaces. fauxqs
// 1.9.x calls listen with host "0.0.0.0" whatever FAUXQS_HOST says (FAUXQS_HOST only
// changes the host in the queue URLs it returns). On a shared network, a firewall is the
// way to keep them private; they hold only throwaway local data.
//
// Process groups and signals make this package Unix-only, like the rest of the local runner.
package standins
