package lambdapool

import "errors"

// errRSSUnsupported reports a platform where the pool cannot read a process's memory use.
var errRSSUnsupported = errors.New("resident memory is not readable on this platform")
