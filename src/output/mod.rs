//! Outputs: the timeline, pcap captures and the JSON report, all fed from the trace stream.

pub mod json;
pub mod pcap;
pub mod timeline;
