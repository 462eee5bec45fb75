// Package process serves an sdk.Plugin as an out-of-process plugin
// (hashicorp/go-plugin over gRPC) and holds the protocol both sides share.
// A plugin's main is one line:
//
//	func main() { process.Serve(sdk.Plugin{Name: "insurance-acme", Insurance: acme{}}) }
//
// The host (core/plugin/processhost) imports this package for Handshake,
// PluginSets and the client side of GRPCPlugin. Process plugins get no
// host operations in SDK v1: sdk.HostFrom(ctx) fails with sdk.ErrNoHost.
package process

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/proto/pluginv1"
)

// ProtocolVersion is the process-plugin protocol generation; it follows
// the SDK major version.
const ProtocolVersion = sdk.ABIVersion

// PluginName is the name of the one go-plugin service a process serves.
const PluginName = "pfinni"

// Handshake is shared by host and plugin. The magic cookie only tells a
// user who runs the binary by hand that it is a plugin; it is not a
// security measure (the host verifies the binary's SHA-256).
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "PFINNI_PLUGIN",
	MagicCookieValue: "7d1c0f4e-pfinni-process-plugin",
}

// PluginSets returns the versioned plugin sets for go-plugin's
// VersionedPlugins: protocol 1 serves impl (nil on the host side).
func PluginSets(impl *sdk.Plugin) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		1: {PluginName: &GRPCPlugin{Impl: impl}},
	}
}

// Serve runs p as a process plugin until the host stops it. It does not
// return.
func Serve(p sdk.Plugin) {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: PluginSets(&p),
		GRPCServer:       plugin.DefaultGRPCServer,
	})
}

// GRPCPlugin is the go-plugin glue for protocol v1. On the plugin side
// Impl is the plugin; on the host side Impl is nil and GRPCClient returns
// a pluginv1.PluginClient.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl *sdk.Plugin
}

var _ plugin.GRPCPlugin = (*GRPCPlugin)(nil)

// GRPCServer registers the plugin's service.
func (g *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pluginv1.RegisterPluginServer(s, &server{p: *g.Impl})
	return nil
}

// GRPCClient returns a pluginv1.PluginClient over c.
func (g *GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return pluginv1.NewPluginClient(c), nil
}

type server struct {
	pluginv1.UnimplementedPluginServer
	p sdk.Plugin
}

func (s *server) Init(ctx context.Context, req *pluginv1.InitRequest) (*pluginv1.Result, error) {
	return &pluginv1.Result{Envelope: sdk.RunInit(ctx, s.p, req.GetConfig())}, nil
}

func (s *server) Handle(ctx context.Context, req *pluginv1.HandleRequest) (*pluginv1.Result, error) {
	return &pluginv1.Result{Envelope: sdk.Dispatch(ctx, s.p, req.GetHook(), req.GetInput())}, nil
}

func (s *server) Health(ctx context.Context, _ *pluginv1.HealthRequest) (*pluginv1.Result, error) {
	return &pluginv1.Result{Envelope: sdk.RunHealth(ctx, s.p)}, nil
}
