//! The extensions' options: the tcp and udp matches (loaded by `-m` or by `-p` on the first
//! unknown option) and the REJECT and MARK targets.

use super::{Jump, Parser, PortState, Value, argument};
use crate::scenario::commands::iptables::options::{Ext, ExtOpt};
use crate::scenario::commands::iptables::values::{mark_mask, strtoul_whole, tcp_ports, udp_ports};
use crate::scenario::shell::Word;
use crate::scenario::source::Diagnostic;
use crate::stack::netfilter::{L4, PortMatch, PortRange, RejectWith, Target};

impl<'a, 'w> Parser<'a, 'w> {
    /// command_default's load_proto: with `-p tcp|udp` given, the first unknown option
    /// loads that protocol's match once, then the option is looked up again.
    pub(super) fn load_protocol_match(&mut self) -> bool {
        let l4 = match self.proto {
            6 => L4::Tcp,
            17 => L4::Udp,
            _ => return false,
        };
        if self.proto_used {
            return false;
        }
        self.proto_used = true;
        self.add_port_match(l4);
        true
    }

    pub(super) fn add_port_match(&mut self, l4: L4) {
        self.ports.push(PortState {
            spec: PortMatch::new(l4),
            source_given: false,
            destination_given: false,
        });
        let ext = match l4 {
            L4::Tcp => Ext::Tcp,
            L4::Udp => Ext::Udp,
        };
        if !self.loaded.contains(&ext) {
            self.loaded.push(ext);
        }
    }

    pub(super) fn extension_option(
        &mut self,
        option: ExtOpt,
        name: &str,
        value: Option<Value<'w>>,
        word: &'w Word,
        invert: bool,
    ) -> Result<(), Diagnostic> {
        let value = argument(value, word);
        match option {
            ExtOpt::SourcePort | ExtOpt::DestinationPort => {
                self.port_option(option, name, value, word, invert)
            }
            ExtOpt::Syn | ExtOpt::TcpFlags | ExtOpt::TcpOption => Err(self.not_simulated(
                word,
                &format!("`{}`", word.text),
                "lvsim's tcp match compares ports (--sport, --dport)",
            )),
            ExtOpt::RejectWith => self.reject_with(value, word, invert),
            _ => self.mark_option(option, name, value, word, invert),
        }
    }

    /// `--sport`/`--dport` go to the first port match loaded (command_default's order;
    /// the options exist only once one is).
    fn port_option(
        &mut self,
        option: ExtOpt,
        name: &str,
        value: Value<'w>,
        word: &'w Word,
        invert: bool,
    ) -> Result<(), Diagnostic> {
        let Some(first) = self.ports.first() else {
            return Err(self.unknown_option(word));
        };
        let source = option == ExtOpt::SourcePort;
        let given = if source {
            first.source_given
        } else {
            first.destination_given
        };
        let l4 = first.spec.l4;
        if given {
            return Err(self.error(
                word,
                match l4 {
                    L4::Tcp => format!(
                        "Only one `--{}' allowed",
                        if source {
                            "source-port"
                        } else {
                            "destination-port"
                        }
                    ),
                    L4::Udp => format!("udp: option \"--{name}\" can only be used once."),
                },
            ));
        }
        let (min, max) = match l4 {
            L4::Tcp => tcp_ports(value.text),
            L4::Udp => udp_ports(value.text, name),
        }
        .map_err(|message| self.error(value.word, message))?;
        let range = PortRange { min, max, invert };
        let state = &mut self.ports[0];
        if source {
            state.spec.sport = range;
            state.source_given = true;
        } else {
            state.spec.dport = range;
            state.destination_given = true;
        }
        Ok(())
    }

    /// `--reject-with`: a case-insensitive prefix of a name or alias, in table order.
    fn reject_with(
        &mut self,
        value: Value<'w>,
        word: &'w Word,
        invert: bool,
    ) -> Result<(), Diagnostic> {
        if self.reject_given {
            return Err(self.error(
                word,
                "REJECT: option \"--reject-with\" can only be used once.",
            ));
        }
        if invert {
            return Err(self.error(word, "REJECT: option \"--reject-with\" cannot be inverted."));
        }
        let wanted = value.text.to_ascii_lowercase();
        let with = RejectWith::ALL
            .into_iter()
            .find(|w| w.name().starts_with(&wanted) || w.alias().starts_with(&wanted))
            .ok_or_else(|| {
                self.error(
                    value.word,
                    format!("unknown reject type \"{}\"", value.text),
                )
            })?;
        self.reject_given = true;
        if let Some((Jump::Target(target), _)) = &mut self.jump {
            *target = Target::Reject(with);
        }
        Ok(())
    }

    /// MARK's options (libxt_MARK.c mark_tg_parse): each at most once.
    fn mark_option(
        &mut self,
        option: ExtOpt,
        name: &str,
        value: Value<'w>,
        word: &'w Word,
        invert: bool,
    ) -> Result<(), Diagnostic> {
        let Some((Jump::Mark { given, .. }, _)) = &self.jump else {
            return Err(self.unknown_option(word));
        };
        if given.iter().any(|(o, _)| *o == option) {
            return Err(self.error(
                word,
                format!("MARK: option \"--{name}\" can only be used once."),
            ));
        }
        if invert {
            return Err(self.error(
                word,
                format!("MARK: option \"--{name}\" cannot be inverted."),
            ));
        }
        let (value, mask) = match option {
            ExtOpt::SetXmark | ExtOpt::SetMark => {
                let (mark, mask) =
                    mark_mask(value.text, name).map_err(|m| self.error(value.word, m))?;
                if option == ExtOpt::SetMark {
                    (mark, mark | mask)
                } else {
                    (mark, mask)
                }
            }
            _ => {
                let bits = strtoul_whole(value.text, 0, u32::MAX.into())
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| {
                        self.error(
                            value.word,
                            format!("MARK: bad value for option \"--{name}\", or out of range (0-4294967295)."),
                        )
                    })?;
                match option {
                    ExtOpt::AndMark => (0, !bits),
                    ExtOpt::OrMark => (bits, bits),
                    _ => (bits, 0),
                }
            }
        };
        if let Some((
            Jump::Mark {
                given,
                value: v,
                mask: m,
            },
            _,
        )) = &mut self.jump
        {
            given.push((option, word));
            *v = value;
            *m = mask;
        }
        Ok(())
    }
}
