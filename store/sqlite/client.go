package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
)

const clientSelect = `SELECT client_id, tenant_id, name, secret_hash, certificate_pem, coalesce(user_id, 0), created_at
	FROM oauth_clients `

func queryClients(ctx context.Context, q querier, clause string, args ...any) ([]store.OAuthClient, error) {
	rows, err := q.QueryContext(ctx, clientSelect+clause, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.OAuthClient
	for rows.Next() {
		var c store.OAuthClient
		var created int64
		if err := rows.Scan(&c.ClientID, &c.TenantID, &c.Name, &c.SecretHash, &c.CertificatePEM, &c.UserID, &created); err != nil {
			return nil, err
		}
		c.CreatedAt = fromMS(created)
		out = append(out, c)
	}
	return out, rows.Err()
}

// CreateOAuthClient implements store.OAuthClients.
func (db *DB) CreateOAuthClient(ctx context.Context, c store.OAuthClient) (store.OAuthClient, error) {
	if c.ClientID == "" || c.TenantID == 0 {
		return store.OAuthClient{}, fmt.Errorf("sqlite: create client: client ID and tenant are required: %w", store.ErrInvalid)
	}
	c.CreatedAt = fromMS(ms(db.clock(c.CreatedAt)))
	userID := sql.NullInt64{Int64: int64(c.UserID), Valid: c.UserID != 0}
	_, err := db.w.ExecContext(ctx, `INSERT INTO oauth_clients (client_id, tenant_id, name, secret_hash, certificate_pem,
		user_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.ClientID, c.TenantID, c.Name, c.SecretHash, c.CertificatePEM, userID, ms(c.CreatedAt))
	if err != nil {
		return store.OAuthClient{}, wrap("create client "+c.ClientID, err)
	}
	return c, nil
}

// OAuthClient implements store.OAuthClients.
func (db *DB) OAuthClient(ctx context.Context, clientID string) (store.OAuthClient, error) {
	cs, err := queryClients(ctx, db.r, `WHERE client_id = ?`, clientID)
	if err != nil {
		return store.OAuthClient{}, wrap("client "+clientID, err)
	}
	if len(cs) == 0 {
		return store.OAuthClient{}, fmt.Errorf("sqlite: client %q: %w", clientID, store.ErrNotFound)
	}
	return cs[0], nil
}

// ListOAuthClients implements store.OAuthClients.
func (db *DB) ListOAuthClients(ctx context.Context, tenantID psgate.TenantID) ([]store.OAuthClient, error) {
	cs, err := queryClients(ctx, db.r, `WHERE ?1 = 0 OR tenant_id = ?1 ORDER BY client_id`, tenantID)
	return cs, wrap("list clients", err)
}

// DeleteOAuthClient implements store.OAuthClients.
func (db *DB) DeleteOAuthClient(ctx context.Context, clientID string) error {
	res, err := db.w.ExecContext(ctx, `DELETE FROM oauth_clients WHERE client_id = ?`, clientID)
	if err != nil {
		return wrap("delete client", err)
	}
	return affected(res, "delete client "+clientID)
}

// SetFederation implements store.Federations.
func (db *DB) SetFederation(ctx context.Context, f store.Federation) error {
	if f.TenantID == 0 || f.Issuer == "" {
		return fmt.Errorf("sqlite: set federation: tenant and issuer are required: %w", store.ErrInvalid)
	}
	_, err := db.w.ExecContext(ctx, `INSERT INTO federations (tenant_id, issuer, audience, user_claim, enabled)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id) DO UPDATE SET issuer = excluded.issuer,
		audience = excluded.audience, user_claim = excluded.user_claim, enabled = excluded.enabled`,
		f.TenantID, f.Issuer, f.Audience, f.UserClaim, boolInt(f.Enabled))
	return wrap(fmt.Sprintf("set federation of tenant %d", f.TenantID), err)
}

// Federation implements store.Federations.
func (db *DB) Federation(ctx context.Context, tenantID psgate.TenantID) (store.Federation, error) {
	var f store.Federation
	err := db.r.QueryRowContext(ctx, `SELECT tenant_id, issuer, audience, user_claim, enabled FROM federations
		WHERE tenant_id = ?`, tenantID).Scan(&f.TenantID, &f.Issuer, &f.Audience, &f.UserClaim, &f.Enabled)
	if err != nil {
		return store.Federation{}, wrap(fmt.Sprintf("federation of tenant %d", tenantID), err)
	}
	return f, nil
}
