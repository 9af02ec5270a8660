// Package module turns module files into cmdlets served by the operator's
// own HTTP service: the way psgate is extended without Go code.
//
// A module file (JSON, described by schema.json and docs/modules.md)
// names one or more backends (base URL, audience, timeout, retries, TLS
// files) and declares cmdlets: name, help, parameters with their binding
// and validation, the output type and its display properties, and the
// HTTP request each makes (method, path template, query and body from
// parameters, where the results are, paging). Load and LoadDir check a
// file completely and report every problem with its file, line, column
// and field (*Error); nothing half-loaded is ever registered.
//
// Register turns each cmdlet into an *engine.Command in the service's
// catalog, next to the built-ins and the tenant cmdlets, so that
// Get-Command, Get-Help, tab completion, RBAC (roles name the cmdlets and
// their parameters as any other) and the command audit apply unchanged.
// A run binds and validates as the engine does (plus ValidatePattern),
// asks -WhatIf before a state-changing call, and calls the backend with a
// short-lived token from psgate's token service (TokenIssuer) that names
// the caller's tenant, user and roles for that backend's audience only.
// JSON answers become objects of the declared type: whole numbers Int32
// or Int64, other numbers Double, nested objects PSCustomObject, arrays
// Object[], and declared properties converted (datetime, guid...). Pages
// are written as they arrive; a stopped pipeline (Ctrl+C, Select-Object
// -First) requests no further page. Error answers become error records
// with a module.* catalog code and PowerShell's category (404
// ObjectNotFound, 403 PermissionDenied, 409 ResourceExists, 400/422
// InvalidArgument with the backend's field messages, 429/503
// LimitsExceeded with the Retry-After). Idempotent calls (GET, PUT,
// DELETE) are retried with backoff and Retry-After, a bounded number of
// times; POST and PATCH never are. A circuit breaker per backend pauses
// calls to a backend that failed five calls in a row. Redirects are not followed and next
// links must stay on the backend's origin, so the caller's token goes to
// the backend only.
//
// The package imports the engine and the vocabulary, never the gateway,
// admission or server: the server loads the modules and wires the token
// service in.
package module
