//! The main routing table: longest-prefix match, then lowest metric, then the oldest route,
//! as `fib_table_lookup` picks. Local addresses (the kernel's local table) are answered by the
//! host from its interfaces, not stored here.

use std::fmt;
use std::net::Ipv4Addr;

use super::addr::{Scope, in_prefix, network};
use super::iface::IfIndex;

/// What a matching route does with the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    Unicast,
    Blackhole,
    Unreachable,
    Prohibit,
}

/// Who installed a route (`proto kernel` for prefix routes of addresses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteProto {
    Kernel,
    Boot,
    Static,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub dst: Ipv4Addr,
    pub prefix_len: u8,
    pub gateway: Option<Ipv4Addr>,
    /// None only for blackhole/unreachable/prohibit routes.
    pub dev: Option<IfIndex>,
    /// The preferred source (`src`), set on prefix routes of addresses.
    pub src: Option<Ipv4Addr>,
    pub scope: Scope,
    pub metric: u32,
    pub proto: RouteProto,
    pub kind: RouteKind,
}

impl Route {
    pub fn is_default(&self) -> bool {
        self.prefix_len == 0
    }

    pub fn matches(&self, dst: Ipv4Addr) -> bool {
        in_prefix(dst, self.dst, self.prefix_len)
    }
}

/// How a route is named when deleting (`route del`, `ip route del`): unset fields match any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteSelector {
    pub dst: Option<(Ipv4Addr, u8)>,
    pub gateway: Option<Ipv4Addr>,
    pub dev: Option<IfIndex>,
    pub metric: Option<u32>,
}

/// Errors worded as RTNETLINK reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteError {
    Exists,
    NoSuchRoute,
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RouteError::Exists => "File exists",
            RouteError::NoSuchRoute => "No such process",
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<Route>,
}

impl RouteTable {
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// Adds a route; the same destination, prefix and metric twice is refused.
    pub fn add(&mut self, mut route: Route) -> Result<(), RouteError> {
        route.dst = network(route.dst, route.prefix_len);
        let clash = self.routes.iter().any(|r| {
            r.dst == route.dst && r.prefix_len == route.prefix_len && r.metric == route.metric
        });
        if clash {
            return Err(RouteError::Exists);
        }
        self.routes.push(route);
        Ok(())
    }

    /// Deletes the first route matching `selector`.
    pub fn delete(&mut self, selector: &RouteSelector) -> Result<Route, RouteError> {
        let index = self
            .routes
            .iter()
            .position(|r| {
                selector
                    .dst
                    .is_none_or(|(d, len)| r.prefix_len == len && r.dst == network(d, len))
                    && selector.gateway.is_none_or(|g| r.gateway == Some(g))
                    && selector.dev.is_none_or(|d| r.dev == Some(d))
                    && selector.metric.is_none_or(|m| r.metric == m)
            })
            .ok_or(RouteError::NoSuchRoute)?;
        Ok(self.routes.remove(index))
    }

    /// Removes every route through `dev` (the device went down: `fib_sync_down_dev`).
    pub fn remove_dev(&mut self, dev: IfIndex) {
        self.routes.retain(|r| r.dev != Some(dev));
    }

    /// Removes the prefix route the kernel installed for an address.
    pub fn remove_prefix_route(
        &mut self,
        dev: IfIndex,
        net: Ipv4Addr,
        prefix_len: u8,
        src: Ipv4Addr,
    ) {
        self.routes.retain(|r| {
            !(r.proto == RouteProto::Kernel
                && r.dev == Some(dev)
                && r.dst == net
                && r.prefix_len == prefix_len
                && r.src == Some(src))
        });
    }

    /// The best route to `dst`; with `oif`, only routes through that device count.
    pub fn lookup(&self, dst: Ipv4Addr, oif: Option<IfIndex>) -> Option<&Route> {
        let mut best: Option<&Route> = None;
        for route in &self.routes {
            if !route.matches(dst) || oif.is_some_and(|o| route.dev.is_some_and(|d| d != o)) {
                continue;
            }
            let better = match best {
                None => true,
                Some(b) => {
                    route.prefix_len > b.prefix_len
                        || (route.prefix_len == b.prefix_len && route.metric < b.metric)
                }
            };
            if better {
                best = Some(route);
            }
        }
        best
    }

    pub fn clear(&mut self) {
        self.routes.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(dst: &str, len: u8, gw: Option<&str>, dev: IfIndex, metric: u32) -> Route {
        Route {
            dst: dst.parse().unwrap(),
            prefix_len: len,
            gateway: gw.map(|g| g.parse().unwrap()),
            dev: Some(dev),
            src: None,
            scope: if gw.is_some() {
                Scope::Global
            } else {
                Scope::Link
            },
            metric,
            proto: RouteProto::Static,
            kind: RouteKind::Unicast,
        }
    }

    #[test]
    fn longest_prefix_wins_then_lowest_metric() {
        let mut table = RouteTable::default();
        table
            .add(route("0.0.0.0", 0, Some("192.168.0.1"), 1, 0))
            .unwrap();
        table.add(route("192.168.0.0", 24, None, 1, 100)).unwrap();
        table.add(route("192.168.0.204", 32, None, 0, 0)).unwrap();
        table.add(route("192.168.0.0", 24, None, 2, 10)).unwrap();
        let ip = |s: &str| s.parse::<Ipv4Addr>().unwrap();
        assert_eq!(
            table.lookup(ip("192.168.0.204"), None).unwrap().dev,
            Some(0)
        );
        assert_eq!(table.lookup(ip("192.168.0.7"), None).unwrap().dev, Some(2));
        assert_eq!(
            table.lookup(ip("8.8.8.8"), None).unwrap().gateway,
            Some(ip("192.168.0.1"))
        );
        assert_eq!(
            table.lookup(ip("192.168.0.7"), Some(1)).unwrap().metric,
            100
        );
    }

    #[test]
    fn duplicate_routes_are_refused_and_deletes_need_a_match() {
        let mut table = RouteTable::default();
        table.add(route("10.0.0.0", 8, None, 1, 0)).unwrap();
        assert_eq!(
            table.add(route("10.1.0.0", 8, None, 2, 0)),
            Err(RouteError::Exists)
        );
        let sel = RouteSelector {
            dst: Some(("10.0.0.0".parse().unwrap(), 16)),
            ..Default::default()
        };
        assert_eq!(table.delete(&sel), Err(RouteError::NoSuchRoute));
        let sel = RouteSelector {
            dst: Some(("10.0.0.0".parse().unwrap(), 8)),
            ..Default::default()
        };
        assert!(table.delete(&sel).is_ok());
        assert!(table.routes().is_empty());
    }
}
