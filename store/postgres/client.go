package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
)

const clientSelect = `SELECT client_id, tenant_id, name, secret_hash, certificate_pem, coalesce(user_id, 0), created_at
	FROM oauth_clients `

func (db *DB) queryClients(ctx context.Context, what, clause string, args ...any) ([]store.OAuthClient, error) {
	var out []store.OAuthClient
	err := db.do(ctx, op{name: what, idempotent: true}, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, clientSelect+clause, args...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.OAuthClient, error) {
			var cl store.OAuthClient
			err := r.Scan(&cl.ClientID, &cl.TenantID, &cl.Name, &cl.SecretHash, &cl.CertificatePEM, &cl.UserID, &cl.CreatedAt)
			cl.CreatedAt = cl.CreatedAt.UTC()
			return cl, err
		})
		return err
	})
	return out, err
}

// CreateOAuthClient implements store.OAuthClients.
func (db *DB) CreateOAuthClient(ctx context.Context, c store.OAuthClient) (store.OAuthClient, error) {
	if c.ClientID == "" || c.TenantID == 0 {
		return store.OAuthClient{}, fmt.Errorf("postgres: create client: client ID and tenant are required: %w", store.ErrInvalid)
	}
	c.CreatedAt = db.clock(c.CreatedAt).UTC()
	var userID *int64
	if c.UserID != 0 {
		id := int64(c.UserID)
		userID = &id
	}
	err := db.do(ctx, op{name: "create client " + c.ClientID}, func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, `INSERT INTO oauth_clients (client_id, tenant_id, name, secret_hash, certificate_pem,
			user_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			c.ClientID, c.TenantID, c.Name, c.SecretHash, c.CertificatePEM, userID, c.CreatedAt)
		return err
	})
	if err != nil {
		return store.OAuthClient{}, err
	}
	return c, nil
}

// OAuthClient implements store.OAuthClients.
func (db *DB) OAuthClient(ctx context.Context, clientID string) (store.OAuthClient, error) {
	cs, err := db.queryClients(ctx, "client "+clientID, `WHERE client_id = $1`, clientID)
	if err != nil {
		return store.OAuthClient{}, err
	}
	if len(cs) == 0 {
		return store.OAuthClient{}, fmt.Errorf("postgres: client %q: %w", clientID, store.ErrNotFound)
	}
	return cs[0], nil
}

// ListOAuthClients implements store.OAuthClients.
func (db *DB) ListOAuthClients(ctx context.Context, tenantID psgate.TenantID) ([]store.OAuthClient, error) {
	return db.queryClients(ctx, "list clients", `WHERE $1 = 0 OR tenant_id = $1 ORDER BY client_id`, tenantID)
}

// DeleteOAuthClient implements store.OAuthClients.
func (db *DB) DeleteOAuthClient(ctx context.Context, clientID string) error {
	return db.do(ctx, op{name: "delete client " + clientID}, func(c *pgx.Conn) error {
		return affected(c.Exec(ctx, `DELETE FROM oauth_clients WHERE client_id = $1`, clientID))
	})
}

// SetFederation implements store.Federations.
func (db *DB) SetFederation(ctx context.Context, f store.Federation) error {
	if f.TenantID == 0 || f.Issuer == "" {
		return fmt.Errorf("postgres: set federation: tenant and issuer are required: %w", store.ErrInvalid)
	}
	return db.do(ctx, op{name: fmt.Sprintf("set federation of tenant %d", f.TenantID), idempotent: true}, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, `INSERT INTO federations (tenant_id, issuer, audience, user_claim, enabled)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id) DO UPDATE SET issuer = EXCLUDED.issuer,
			audience = EXCLUDED.audience, user_claim = EXCLUDED.user_claim, enabled = EXCLUDED.enabled`,
			f.TenantID, f.Issuer, f.Audience, f.UserClaim, f.Enabled)
		return err
	})
}

// Federation implements store.Federations.
func (db *DB) Federation(ctx context.Context, tenantID psgate.TenantID) (store.Federation, error) {
	var f store.Federation
	err := db.do(ctx, op{name: fmt.Sprintf("federation of tenant %d", tenantID), idempotent: true}, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT tenant_id, issuer, audience, user_claim, enabled FROM federations
			WHERE tenant_id = $1`, tenantID).Scan(&f.TenantID, &f.Issuer, &f.Audience, &f.UserClaim, &f.Enabled)
	})
	return f, err
}
