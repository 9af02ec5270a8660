//go:build !connector

package main

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/psgate/psgate/cluster"
)

const clusterLong = `Make the certificates that link the gateway nodes sharing one PostgreSQL
store. Every node runs an internal listener (cluster.listen) that accepts only
other nodes: a request that reaches a node other than its shell's node is
forwarded there over mutual TLS, so clients work behind a load balancer
without affinity (docs/cluster.md).

  psgate cluster init --dir /etc/psgate/cluster
  psgate cluster cert --dir /etc/psgate/cluster --name gw1 --host gw1.internal

Copy ca.pem, <name>.pem and <name>-key.pem to each node and keep ca-key.pem
somewhere safe: whoever holds it can join nodes to the cluster.`

func newClusterCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Create the cluster authority and node certificates for forwarding between nodes (operator)",
		Long:  clusterLong,
	}
	var dir string
	cmd.PersistentFlags().StringVar(&dir, "dir", "", "directory of the cluster authority (ca.pem, ca-key.pem)")
	_ = cmd.MarkPersistentFlagRequired("dir")

	initCmd := &cobra.Command{
		Use:   "init",
		Short: "Create the cluster authority (refuses to replace one)",
		Long:  clusterLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cluster.Init(dir, time.Now()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Cluster authority created: %s (give it to every node) and %s (keep it off the nodes).\nNext: psgate cluster cert --dir %s --name NODE --host NODE-ADDRESS\n",
				filepath.Join(dir, cluster.CAFile), filepath.Join(dir, cluster.CAKeyFile), dir)
			return nil
		},
	}
	var name string
	var hosts []string
	certCmd := &cobra.Command{
		Use:   "cert",
		Short: "Issue a node's certificate from the cluster authority",
		Long:  clusterLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			certPath, keyPath, err := cluster.Issue(dir, name, hosts, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Node certificate for %s: %s and %s.\nOn that node set cluster.ca = %q, cluster.cert and cluster.key to these files, and cluster.listen.\n",
				name, certPath, keyPath, filepath.Join(dir, cluster.CAFile))
			return nil
		},
	}
	certCmd.Flags().StringVar(&name, "name", "", "the node's name (the certificate's common name and file name)")
	certCmd.Flags().StringSliceVar(&hosts, "host", nil, "a DNS name or IP address peers reach the node's internal listener by (repeatable; localhost and 127.0.0.1 are always included)")
	_ = certCmd.MarkFlagRequired("name")
	cmd.AddCommand(initCmd, certCmd)
	return cmd
}
