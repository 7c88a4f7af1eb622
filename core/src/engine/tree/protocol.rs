//! The driver's protocol (`kernel/PROTOCOL.md`): the request for one
//! boot, and the reply's records turned into an [`Outcome`], one function
//! a record, each named after the record the driver prints. The
//! in-process engine of `efimap-kernel-ffi` speaks it too.

use crate::model::boot::{leaks, AllocInfo, BootInput, Outcome};
use crate::model::desc::{MemRange, MemoryDesc, DESC_LEN};
use crate::model::era::Era;
use crate::model::kernel::{
    Copied, E820Op, E820Type, E820Update, EfiMemoryMap, Event, EventKind, Freed, InsertCall,
    Install, InstallKind, Level, MapPtr, Stage,
};
use crate::model::mem::{Access, AllocKind, Fault, FaultKind, Fill};
use std::collections::HashSet;
use std::sync::Mutex;

/// The request for one boot (`kernel/PROTOCOL.md`).
pub fn request(input: &BootInput, quiet: bool) -> String {
    let mut s = String::from("boot\n");
    s.push_str(&format!("desc_size {}\n", input.desc_size));
    s.push_str(&match input.fill {
        Fill::Zero => "fill zero\n".to_string(),
        Fill::Stale => "fill stale\n".to_string(),
        Fill::Pattern(b) => format!("fill pattern {b:#x}\n"),
    });
    s.push_str(&format!("quiet {}\n", u8::from(quiet)));
    s.push_str(&format!("cmdline {}\n", input.cmdline));
    for d in &input.map {
        s.push_str(&format!(
            "desc {:#x} {:#x} {:#x} {:#x} {:#x} {:#x}\n",
            d.ty, d.pad, d.phys_addr, d.virt_addr, d.num_pages, d.attribute
        ));
    }
    for &(a, z) in &input.reservations {
        s.push_str(&format!("reserve {a:#x} {z:#x}\n"));
    }
    for &(a, z) in &input.memblock {
        s.push_str(&format!("memblock {a:#x} {z:#x}\n"));
    }
    if let Some((a, z)) = input.bgrt {
        s.push_str(&format!("bgrt {a:#x} {z:#x}\n"));
    }
    for step in &input.later {
        s.push_str(&format!("later {}\n", step.directive()));
    }
    s.push_str("go\n");
    s
}

/// A function name the driver printed, as the `&'static str` the outcome
/// types hold: one of the model's names, or the name kept for good.
fn intern(name: &str) -> &'static str {
    if let Some(f) = crate::model::kernel::function_named(name) {
        return f;
    }
    static NAMES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    let set = names.get_or_insert_with(HashSet::new);
    if let Some(&n) = set.get(name) {
        return n;
    }
    let n: &'static str = Box::leak(name.to_string().into_boxed_str());
    set.insert(n);
    n
}

fn num(w: Option<&str>) -> Result<u64, String> {
    let w = w.ok_or("a field is missing")?;
    let v = match w.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16),
        None => w.parse(),
    };
    v.map_err(|_| format!("expected a number, found `{w}`"))
}

fn hex_bytes(w: Option<&str>) -> Result<Vec<u8>, String> {
    let w = w.unwrap_or("");
    if w == "-" {
        return Ok(Vec::new());
    }
    (0..w.len() / 2)
        .map(|i| u8::from_str_radix(&w[2 * i..2 * i + 2], 16).map_err(|_| "bad hex".to_string()))
        .collect()
}

fn descs(bytes: &[u8], desc_size: u64) -> Vec<MemoryDesc> {
    let ds = desc_size.max(DESC_LEN as u64) as usize;
    bytes
        .chunks(ds)
        .filter(|c| c.len() >= DESC_LEN)
        .map(MemoryDesc::from_bytes)
        .collect()
}

fn level(w: &str) -> Result<Level, String> {
    Ok(match w {
        "warning" => Level::Warning,
        "err" => Level::Err,
        "warn" => Level::Warn,
        "notice" => Level::Notice,
        "info" => Level::Info,
        "debug" => Level::Debug,
        _ => return Err(format!("unknown level `{w}`")),
    })
}

fn e820_type(w: Option<&str>) -> Result<E820Type, String> {
    Ok(match w {
        Some("usable") | Some("ram") => E820Type::RAM,
        Some("reserved") => E820Type::RESERVED,
        Some("soft-reserved") | Some("soft_reserved") => E820Type::SOFT_RESERVED,
        other => return Err(format!("unknown e820 type {other:?}")),
    })
}

/// The kinds of event the judge reads, recognised in the driver's text as
/// the model marks them.
fn kind_of(level: Level, func: &str, text: &str) -> EventKind {
    if func == "__early_ioremap" && level == Level::Warning {
        return EventKind::EarlyMapRefused;
    }
    if level == Level::Warning {
        return EventKind::Warn;
    }
    if func == "efi_arch_mem_reserve" && level == Level::Err {
        let addr = text
            .strip_prefix("efi: Failed to lookup EFI memory descriptor for 0x")
            .or_else(|| text.strip_prefix("efi: Region spans EFI memory descriptors, 0x"))
            .and_then(|hex| u64::from_str_radix(hex, 16).ok());
        if let Some(addr) = addr {
            return EventKind::ReserveRefused { addr };
        }
    }
    if let Some(name) = text
        .strip_prefix("Malformed early option '")
        .and_then(|r| r.strip_suffix('\''))
    {
        if crate::model::cmdline::parameq(name, "efi_fake_mem") {
            return EventKind::OptionRejected {
                param: "efi_fake_mem",
            };
        }
        if crate::model::cmdline::parameq(name, "efi") {
            return EventKind::OptionRejected { param: "efi" };
        }
    }
    EventKind::Print
}

/// The words after a record's name.
type Words<'a> = std::str::Split<'a, char>;

/// `event LEVEL FUNC TEXT`: one thing the kernel printed.
fn event(rest: &str) -> Result<Event, String> {
    let mut w = rest.split(' ');
    let lv = level(w.next().unwrap_or(""))?;
    let func = w.next().unwrap_or("");
    let text = rest.splitn(3, ' ').nth(2).unwrap_or("").to_string();
    let kind = kind_of(lv, func, &text);
    Ok(Event {
        level: lv,
        func: intern(func),
        text,
        kind,
    })
}

/// `e820 OP START SIZE FROM TO BY`: one e820 request.
fn e820(w: &mut Words) -> Result<E820Update, String> {
    let op = w.next().unwrap_or("");
    let (start, size) = (num(w.next())?, num(w.next())?);
    let (from, to) = (w.next(), w.next());
    let by = intern(w.next().unwrap_or(""));
    let op = match op {
        "update" => E820Op::Update {
            from: e820_type(from)?,
            to: e820_type(to)?,
        },
        "remove" => E820Op::Remove {
            from: e820_type(from)?,
        },
        "add" => E820Op::Add { to: e820_type(to)? },
        _ => return Err(format!("unknown e820 op `{op}`")),
    };
    Ok(E820Update {
        start,
        size,
        op,
        by,
    })
}

/// `alloc ID KIND PHYS SIZE BY FREED_BY`: one block of memory.
fn alloc(w: &mut Words) -> Result<AllocInfo, String> {
    let id = num(w.next())? as usize;
    let kind = match w.next().unwrap_or("") {
        "firmware" => AllocKind::Firmware,
        "memblock" => AllocKind::Memblock,
        k => match k.split_once(':') {
            Some(("pages", n)) => AllocKind::Pages {
                order: num(Some(n))? as u32,
            },
            Some(("slab", n)) => AllocKind::Slab {
                object: num(Some(n))?,
            },
            _ => return Err(format!("unknown allocation kind `{k}`")),
        },
    };
    let (phys, size) = (num(w.next())?, num(w.next())?);
    let by = intern(w.next().unwrap_or(""));
    let freed_by = match w.next() {
        None | Some("-") => None,
        Some(f) => Some(intern(f)),
    };
    Ok(AllocInfo {
        id,
        kind,
        phys,
        size,
        by,
        freed_by,
    })
}

/// `fault ALLOC OFFSET LEN r|w KIND BY ACCESSES`: bad accesses to a block.
fn fault(w: &mut Words) -> Result<Fault, String> {
    let alloc = num(w.next())? as usize;
    let (offset, len) = (num(w.next())?, num(w.next())?);
    let access = match w.next() {
        Some("r") => Access::Read,
        Some("w") => Access::Write,
        a => return Err(format!("unknown access {a:?}")),
    };
    let kind = match w.next() {
        Some("oob") => FaultKind::OutOfBounds { page_fault: false },
        Some("oob-pf") => FaultKind::OutOfBounds { page_fault: true },
        Some("uaf") => FaultKind::UseAfterFree,
        Some("double") => FaultKind::DoubleFree,
        Some("bad") => FaultKind::BadFree,
        k => return Err(format!("unknown fault kind {k:?}")),
    };
    let by = intern(w.next().unwrap_or(""));
    let accesses = num(w.next())?;
    Ok(Fault {
        alloc,
        offset,
        len,
        access,
        kind,
        by,
        accesses,
    })
}

/// `insert CALLER BUF START END ATTR MAP_LEN DESC_SIZE WRITTEN ROOM
/// COPIED`: one call of `efi_memmap_insert`.
fn insert(w: &mut Words) -> Result<InsertCall, String> {
    let caller = intern(w.next().unwrap_or(""));
    let buf = num(w.next())? as usize;
    let range = MemRange::new(num(w.next())?, num(w.next())?, num(w.next())?);
    let (map_len, desc_size) = (num(w.next())?, num(w.next())?);
    let (written, room) = (num(w.next())?, num(w.next())?);
    let mut copied = Vec::new();
    for c in w
        .next()
        .unwrap_or("")
        .split(',')
        .filter(|c| !c.is_empty() && *c != "-")
    {
        let mut p = c.split(':');
        copied.push(Copied {
            offset: num(p.next())?,
            start: num(p.next())?,
            pages: num(p.next())?,
        });
    }
    Ok(InsertCall {
        caller,
        buf,
        range,
        map_len,
        desc_size,
        copied,
        written,
        room,
    })
}

/// `RANGES RESERVATIONS KEPT`: how far the boot got.
fn stage(w: &mut Words) -> Result<Stage, String> {
    Ok(Stage {
        ranges: num(w.next())? as usize,
        reservations: num(w.next())? as usize,
        boot_services_kept: num(w.next())? != 0,
    })
}

/// `install KIND BY STAGE PHYS ALLOC BYTES`: a map that became
/// `efi.memmap`.
fn install(w: &mut Words, desc_size: u64) -> Result<Install, String> {
    let kind = match w.next() {
        Some("firmware") => InstallKind::Firmware,
        Some("new") => InstallKind::New,
        Some("remap") => InstallKind::Remap,
        Some("runtime") => InstallKind::Runtime,
        k => return Err(format!("unknown install kind {k:?}")),
    };
    let by = intern(w.next().unwrap_or(""));
    let stage = stage(w)?;
    let phys = num(w.next())?;
    let alloc = match w.next() {
        Some("-") | None => None,
        a => Some(num(a)? as usize),
    };
    let bytes = hex_bytes(w.next())?;
    Ok(Install {
        kind,
        by,
        stage,
        phys,
        alloc,
        descs: descs(&bytes, desc_size),
    })
}

/// `freed START END BY`: boot-services memory given back.
fn freed(w: &mut Words) -> Result<Freed, String> {
    let (start, end) = (num(w.next())?, num(w.next())?);
    Ok(Freed {
        start,
        end,
        by: intern(w.next().unwrap_or("")),
    })
}

/// `calls NAME N`: how often the boot called a function; one the model
/// does not have is not counted.
fn calls(w: &mut Words, o: &mut Outcome) -> Result<(), String> {
    let name = w.next().unwrap_or("");
    let n = num(w.next())?;
    if let Some(f) = crate::model::func::Func::named(name) {
        let c = &mut o.calls.0[f as usize];
        *c = c.saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
    }
    Ok(())
}

/// `memmap PHYS_MAP MAP_LEN NR_MAP DESC_VERSION DESC_SIZE FLAGS MAPPED`:
/// `efi.memmap` at the end, and whether it was mapped.
fn memmap(w: &mut Words) -> Result<(EfiMemoryMap, bool), String> {
    let m = EfiMemoryMap {
        phys_map: num(w.next())?,
        map: None,
        map_len: num(w.next())?,
        nr_map: num(w.next())?,
        desc_version: num(w.next())? as u32,
        desc_size: num(w.next())?,
        flags: num(w.next())? as u32,
    };
    Ok((m, num(w.next())? != 0))
}

/// `crash SIGNAL FUNC`: the kernel code crashed, which the outcome holds
/// as a WARN of the function it crashed in.
fn crash(w: &mut Words) -> Event {
    let signal = w.next().unwrap_or("?").to_string();
    let func = intern(w.next().unwrap_or("?"));
    Event {
        level: Level::Warning,
        func,
        text: format!("BUG: the kernel code crashed with {signal} in {func}"),
        kind: EventKind::Warn,
    }
}

/// Turns the driver's reply for `input` into an outcome: each record by
/// its function, then what follows from them all (the installed map's
/// block, the map setup_arch left, the leaks).
pub fn parse_outcome(era: Era, input: &BootInput, lines: &[String]) -> Result<Outcome, String> {
    let mut o = Outcome {
        era,
        memmap: EfiMemoryMap::default(),
        map_bytes: Vec::new(),
        map: Vec::new(),
        fake_mems: Vec::new(),
        events: Vec::new(),
        faults: Vec::new(),
        allocations: Vec::new(),
        leaks: Vec::new(),
        e820: Vec::new(),
        inserts: Vec::new(),
        installs: Vec::new(),
        stage: Stage::default(),
        freed: Vec::new(),
        kept: Vec::new(),
        boot_map: None,
        calls: Default::default(),
        e820_pass: Default::default(),
    };
    let mut mapped = false;
    for line in lines {
        let (head, rest) = line.split_once(' ').unwrap_or((line, ""));
        let w = &mut rest.split(' ');
        match head {
            "event" => o.events.push(event(rest)?),
            "e820" => o.e820.push(e820(w)?),
            "alloc" => {
                let a = alloc(w)?;
                if a.id != o.allocations.len() {
                    return Err(format!("allocation {} out of order", a.id));
                }
                o.allocations.push(a);
            }
            "fault" => o.faults.push(fault(w)?),
            "insert" => o.inserts.push(insert(w)?),
            "install" => o.installs.push(install(w, input.desc_size)?),
            "freed" => o.freed.push(freed(w)?),
            "kept" => o.kept.push((num(w.next())?, num(w.next())?)),
            "calls" => calls(w, &mut o)?,
            "memmap" => (o.memmap, mapped) = memmap(w)?,
            "fakemem" => o.fake_mems.push(MemRange::new(
                num(w.next())?,
                num(w.next())?,
                num(w.next())?,
            )),
            "stage" => o.stage = stage(w)?,
            "mapbytes" => o.map_bytes = hex_bytes(w.next())?,
            "bootmap" => o.boot_map = Some(descs(&hex_bytes(w.next())?, input.desc_size)),
            "crash" => o.events.push(crash(w)),
            "" => {}
            other => return Err(format!("unknown record `{other}`")),
        }
    }
    o.map = descs(&o.map_bytes, o.memmap.desc_size);
    let installed = o
        .allocations
        .iter()
        .rposition(|a| o.memmap.phys_map >= a.phys && o.memmap.phys_map - a.phys < a.size.max(1));
    if mapped {
        if let Some(id) = installed {
            o.memmap.map = Some(MapPtr {
                alloc: id,
                off: o.memmap.phys_map - o.allocations[id].phys,
            });
        }
    }
    if o.boot_map.is_none() {
        o.boot_map = o
            .installs
            .iter()
            .rev()
            .find(|i| i.kind != InstallKind::Runtime && i.kind != InstallKind::Remap)
            .map(|i| i.descs.clone());
    }
    o.leaks = leaks(&o.allocations, installed);
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_parses_into_an_outcome() {
        let input = BootInput {
            map: vec![MemoryDesc::new(4, 0x10_0000, 0x10, 0xf)],
            ..BootInput::default()
        };
        let lines: Vec<String> = [
            "alloc 0 firmware 0x8000000 0x30 firmware -",
            "install firmware efi_memblock_x86_reserve_range 0 0 0 0x8000000 0 \
             0400000000000000000010000000000000000000000000001000000000000000\
             0f00000000000000808080808080808080",
            "event err efi_arch_mem_reserve efi: Failed to lookup EFI memory descriptor for 0x0000000000000000",
            "memmap 0x8000000 0x30 0x1 0x1 0x30 0x0 1",
            "mapbytes 0400000000000000000010000000000000000000000000001000000000000000\
             0f00000000000000",
            "stage 0 1 1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let o = parse_outcome(Era::V6_12_Y, &input, &lines).unwrap();
        assert_eq!(o.map, input.map);
        assert_eq!(o.memmap.map, Some(MapPtr { alloc: 0, off: 0 }));
        assert_eq!(o.events[0].func, "efi_arch_mem_reserve");
        assert_eq!(o.events[0].kind, EventKind::ReserveRefused { addr: 0 });
        assert_eq!(o.installs[0].kind, InstallKind::Firmware);
        assert_eq!(o.leaks, Vec::<usize>::new());
        assert!(o.stage.boot_services_kept);
    }

    use crate::model::boot::LaterStep;

    #[test]
    fn the_request_names_every_input() {
        let input = BootInput {
            map: vec![MemoryDesc::new(7, 0x1000, 1, 0xf)],
            cmdline: "efi=debug".into(),
            reservations: vec![(0x1000, 0x10)],
            later: vec![LaterStep::VirtualMode],
            fill: Fill::Pattern(0xa5),
            ..BootInput::default()
        };
        assert_eq!(
            request(&input, true),
            "boot\ndesc_size 48\nfill pattern 0xa5\nquiet 1\ncmdline efi=debug\n\
             desc 0x7 0x0 0x1000 0x0 0x1 0xf\nreserve 0x1000 0x10\nlater virtual-mode\ngo\n"
        );
    }
}
