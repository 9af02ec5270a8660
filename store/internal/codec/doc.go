// Package codec holds the record encodings and normalisations that every
// store implementation must apply identically: role entries as JSON,
// lower-cased names, generated object IDs.
package codec
