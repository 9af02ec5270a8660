// Package identity authenticates psgate's callers: HTTP Basic with a
// directory password, and (with a TokenVerifier) bearer tokens carried
// inside Basic authentication or in an Authorization: Bearer header, as the
// Skype for Business Online connector carried modern-authentication
// tokens.
package identity
