//go:build !connector

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/psgate/psgate/store"
)

// nodeJSON is a gateway node in --output json.
type nodeJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	URL       string    `json:"url"`
	StartedAt time.Time `json:"startedAt"`
	// RenewBy is when the node's record (and its sessions' quota slots)
	// expire unless the node renews them, which it does while it runs.
	RenewBy  time.Time `json:"renewBy"`
	Draining bool      `json:"draining"`
	Sessions int       `json:"sessions"`
}

const nodeLong = `List the gateway nodes sharing a store, and drain one. A draining node admits
no new session. When the nodes are linked (cluster.listen, docs/cluster.md) it
sends new sessions to another node and hands its open sessions over to the
other nodes as they turn idle, so their clients notice nothing; otherwise it
refuses new sessions (clients read server.shutting-down and, behind a load
balancer, reconnect to another node) and keeps its open ones until they end.
Run it against the shared PostgreSQL store (--store) or a single gateway's data
directory (--data).

A node picks the change up at its next lease renewal (every 10 seconds).
Restarting a node clears its draining flag: a new process is a new node.`

func newNodeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "node",
		Short: "List gateway nodes and drain one before maintenance (operator)",
		Long:  nodeLong,
	}
	o := addAdminFlags(cmd)
	cmd.AddCommand(newNodeListCmd(o), newNodeDrainCmd(o, true), newNodeDrainCmd(o, false))
	return cmd
}

func newNodeListCmd(o *adminOpts) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the live gateway nodes with their sessions",
		Long:  nodeLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return o.withStore(ctx, false, func(st store.Store) error {
				nodes, err := st.ListNodes(ctx, time.Now())
				if err != nil {
					return storeFailed("list nodes", err)
				}
				out := make([]nodeJSON, 0, len(nodes))
				for _, n := range nodes {
					ls, err := st.Leases(ctx, store.LeaseFilter{NodeID: n.ID})
					if err != nil {
						return storeFailed("list sessions", err)
					}
					out = append(out, nodeJSON{
						ID: n.ID, Name: n.Name, URL: n.InternalURL, StartedAt: n.StartedAt,
						RenewBy: n.ExpiresAt, Draining: n.Draining, Sessions: len(ls),
					})
				}
				return o.print(cmd.OutOrStdout(), out, func(w io.Writer) {
					tableRow(w, "NAME", "STATE", "SESSIONS", "STARTED", "URL", "ID")
					for _, n := range out {
						state := "serving"
						if n.Draining {
							state = "draining"
						}
						tableRow(w, n.Name, state, n.Sessions, tableTime(n.StartedAt), orDash(n.URL), n.ID)
					}
				})
			})
		},
	}
}

func newNodeDrainCmd(o *adminOpts, drain bool) *cobra.Command {
	use, short := "drain NODE", "Stop a node admitting new sessions; its open sessions go on"
	if !drain {
		use, short = "undrain NODE", "Let a draining node admit new sessions again"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Long:  nodeLong + "\n\nNODE is a node's name (host:port, as psgate node list shows it) or its ID.",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return o.withStore(ctx, false, func(st store.Store) error {
				n, err := resolveNode(ctx, st, args[0])
				if err != nil {
					return err
				}
				if err := st.SetDraining(ctx, n.ID, drain); err != nil {
					return storeFailed("set draining", err)
				}
				verb := "draining: it refuses new sessions from its next lease renewal"
				if !drain {
					verb = "serving: it admits new sessions from its next lease renewal"
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Node %s is %s.\n", n.Name, verb)
				return nil
			})
		},
	}
}

// resolveNode finds a live node by name or ID.
func resolveNode(ctx context.Context, st store.Store, s string) (store.Node, error) {
	nodes, err := st.ListNodes(ctx, time.Now())
	if err != nil {
		return store.Node{}, storeFailed("list nodes", err)
	}
	for _, n := range nodes {
		if n.Name == s || n.ID == s {
			return n, nil
		}
	}
	return store.Node{}, errors.New("no live gateway node is named " + s + ": psgate node list shows them")
}
