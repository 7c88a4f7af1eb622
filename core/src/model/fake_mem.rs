//! `efi_fake_mem=`: the option parser and the two `efi_fake_memmap`s.
//!
//! Models drivers/firmware/efi/fake_mem.c as at v5.5 (buggy; the body shown
//! whole by the combined revert of 2020-02-01) and 484a418d (fixed), and
//! arch/x86/platform/efi/fake_mem.c as at 254a1420 (fixed, with
//! `efi_fake_memmap_early`).

use crate::model::cmdline::{kernel_sort, memparse, simple_strtoull};
use crate::model::desc::{attr, ty, MemRange};
use crate::model::era::{FakeMem, SoftReserveE820};
use crate::model::func::Func;
use crate::model::kernel::{E820Op, E820Type, E820Update, Errno, Kernel, Level, MemoryMapData};

impl Kernel {
    /// `setup_fake_mem(p)`, the early_param handler: appends
    /// `size@start:attr` entries (partial acceptance: entries before a bad
    /// token stay), sorts all of them by start with lib/sort.c, prints each.
    /// `Err(EINVAL)` when the string was not consumed to its end.
    pub fn setup_fake_mem(&mut self, p: Option<&str>) -> Result<(), Errno> {
        self.call(Func::SetupFakeMem, |k| {
            let Some(p) = p else {
                return Err(Errno::EINVAL);
            };
            let s = p.as_bytes();
            let at = |i: usize| s.get(i).copied().unwrap_or(0);
            let mut i = 0usize;
            while at(i) != 0 {
                let (size, n) = memparse(&s[i..]);
                i += n;
                if at(i) != b'@' {
                    break;
                }
                let (start, n) = memparse(&s[i + 1..]);
                i += 1 + n;
                if at(i) != b':' {
                    break;
                }
                let (attribute, n) = simple_strtoull(&s[i + 1..]);
                i += 1 + n;
                if k.fake_mems.len() >= k.max_fake_mem {
                    break;
                }
                k.fake_mems
                    .push(MemRange::from_size(start, size, attribute));
                if at(i) == b',' {
                    i += 1;
                }
            }
            k.count(Func::Sort);
            kernel_sort(&mut k.fake_mems, k.f.sort, |a, b| a.start.cmp(&b.start));
            let printed = if k.quiet { 0 } else { k.fake_mems.len() };
            for n in 0..printed {
                let m = k.fake_mems[n];
                // No "efi: " prefix and no newline in the kernel's format.
                k.log(
                    Level::Info,
                    format!(
                        "efi_fake_mem: add attr=0x{:016x} to [mem 0x{:016x}-0x{:016x}]",
                        m.attribute, m.start, m.end
                    ),
                );
            }
            if at(i) == 0 {
                Ok(())
            } else {
                Err(Errno::EINVAL)
            }
        })
    }

    /// `efi_fake_memmap()`, in the era's form. v6.11 has none: a no-op.
    pub fn efi_fake_memmap(&mut self) {
        self.call(Func::EfiFakeMemmap, |k| {
            if k.memmap_enabled && !k.fake_mems.is_empty() {
                match k.f.fake_mem {
                    FakeMem::Buggy => k.fake_memmap_buggy(),
                    FakeMem::Fixed => {
                        for n in 0..k.fake_mems.len() {
                            let r = k.fake_mems[n];
                            k.stage.ranges = n + 1;
                            k.efi_fake_range(&r);
                        }
                        k.efi_print_memmap();
                    }
                    FakeMem::Removed => {}
                }
            }
        })
    }

    /// The v4.5 .. v5.5 body: one count over all ranges against the
    /// original map, one buffer, every range inserted from the original map
    /// starting at slot 0. The map is printed only when it was installed.
    fn fake_memmap_buggy(&mut self) {
        self.stage.ranges = self.fake_mems.len();
        let mut new_nr_map = self.memmap.nr_map;
        for k in 0..self.fake_mems.len() {
            let r = self.fake_mems[k];
            for o in self.for_each_desc() {
                let md = self.read_desc(self.memmap.map.expect("mapped"), o);
                new_nr_map += self.split_count(&md, &r);
            }
        }
        let mut data = MemoryMapData::default();
        if self.efi_memmap_alloc(new_nr_map, &mut data).is_err() {
            return;
        }
        let Some(buf) = self.early_memremap(data.phys_map, data.size) else {
            self.mem.free(data.phys_map, data.size, "efi_fake_memmap");
            return;
        };
        let original = self.memmap;
        for k in 0..self.fake_mems.len() {
            let r = self.fake_mems[k];
            self.efi_memmap_insert(&original, buf, &r);
        }
        let _ = self.efi_memmap_install(&data);
        self.efi_print_memmap();
    }

    /// `efi_fake_range(efi_range)` (484a418d): count against the current
    /// map, allocate, insert, install (result ignored). Failures are silent.
    pub fn efi_fake_range(&mut self, r: &MemRange) {
        self.call(Func::EfiFakeRange, |k| {
            let mut new_nr_map = k.memmap.nr_map;
            for o in k.for_each_desc() {
                let md = k.read_desc(k.memmap.map.expect("mapped"), o);
                new_nr_map += k.split_count(&md, r);
            }
            let mut data = MemoryMapData::default();
            if k.efi_memmap_alloc(new_nr_map, &mut data).is_ok() {
                match k.early_memremap(data.phys_map, data.size) {
                    None => k.__efi_memmap_free(data.phys_map, data.size, data.flags),
                    Some(buf) => {
                        let current = k.memmap;
                        k.efi_memmap_insert(&current, buf, r);
                        let _ = k.efi_memmap_install(&data);
                    }
                }
            }
        })
    }

    /// `efi_fake_memmap_early()` (v5.5 .. v6.10): for every SP range, mark
    /// its overlap with each Conventional descriptor soft-reserved in e820.
    /// The EFI map itself is not changed.
    pub fn efi_fake_memmap_early(&mut self) {
        let how = self.f.soft_reserve_e820;
        if how == SoftReserveE820::None {
            return; // no such function in this era
        }
        self.call(Func::EfiFakeMemmapEarly, |k| {
            if !k.soft_reserve || !k.memmap_enabled || k.fake_mems.is_empty() {
                return;
            }
            for n in 0..k.fake_mems.len() {
                let m = k.fake_mems[n];
                if m.attribute & attr::SP == 0 {
                    continue;
                }
                for o in k.for_each_desc() {
                    let md = k.read_desc(k.memmap.map.expect("mapped"), o);
                    if md.ty != ty::CONVENTIONAL_MEMORY {
                        continue;
                    }
                    let (start, end) = (md.phys_addr, md.end());
                    if !(m.start <= end && m.end >= start) {
                        continue;
                    }
                    let (start, end) = (start.max(m.start), end.min(m.end));
                    let size = end.wrapping_sub(start).wrapping_add(1);
                    if end <= start {
                        continue;
                    }
                    let ops: &[E820Op] = match how {
                        SoftReserveE820::Update => &[E820Op::Update {
                            from: E820Type::RAM,
                            to: E820Type::SOFT_RESERVED,
                        }],
                        _ => &[
                            E820Op::Remove {
                                from: E820Type::RAM,
                            },
                            E820Op::Add {
                                to: E820Type::SOFT_RESERVED,
                            },
                        ],
                    };
                    for &op in ops {
                        k.e820_request(start, size, op);
                    }
                }
            }
        })
    }

    /// Records an e820 change and the line e820 prints for it.
    pub(crate) fn e820_request(&mut self, start: u64, size: u64, op: E820Op) {
        // e820.c clamps the size so that the range ends below 2^64.
        let size = size.min(u64::MAX - start);
        let last = start.wrapping_add(size).wrapping_sub(1);
        // e820__range_update and e820__range_remove print at KERN_DEBUG;
        // e820__range_add prints nothing.
        let text = match op {
            _ if self.quiet => None,
            E820Op::Update { from, to } => Some(format!(
                "e820: update [mem {:#010x}-{:#010x}] {} ==> {}",
                start,
                last,
                from.name(),
                to.name()
            )),
            E820Op::Remove { from } => Some(format!(
                "e820: remove [mem {:#010x}-{:#010x}] {}",
                start,
                last,
                from.name()
            )),
            E820Op::Add { .. } => None,
        };
        if let Some(text) = text.filter(|_| !self.quiet) {
            self.log(Level::Debug, text);
        }
        let by = self.culprit();
        self.e820.push(E820Update {
            start,
            size,
            op,
            by,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::era::Era;
    use crate::model::mem::Fill;

    const G: u64 = 1 << 30;

    fn parse(era: Era, s: &str) -> (Kernel, Result<(), Errno>) {
        let mut k = Kernel::new(era, Fill::Zero);
        let r = k.setup_fake_mem(Some(s));
        (k, r)
    }

    #[test]
    fn documented_examples() {
        let (k, r) = parse(Era::V5_5, "2G@4G:0x10000,2G@0x10a0000000:0x10000");
        assert_eq!(r, Ok(()));
        assert_eq!(
            k.fake_mems,
            vec![
                MemRange::new(0x1_0000_0000, 0x1_7fff_ffff, 0x10000),
                MemRange::new(0x10_a000_0000, 0x11_1fff_ffff, 0x10000),
            ]
        );
        let (k, _) = parse(Era::V5_5, "8G@9G:0x40000");
        assert_eq!(
            k.fake_mems,
            vec![MemRange::new(0x2_4000_0000, 0x4_3fff_ffff, 0x40000)]
        );
        assert_eq!(
            k.events[0].text,
            "efi_fake_mem: add attr=0x0000000000040000 to [mem 0x0000000240000000-0x000000043fffffff]"
        );
    }

    #[test]
    fn parsing_quirks() {
        // Empty attribute: attr 0, accepted.
        let (k, r) = parse(Era::V5_5, "4G@8G:");
        assert_eq!((r, k.fake_mems[0].attribute), (Ok(()), 0));
        // A trailing token without '@' or ':' is dropped silently.
        let (k, r) = parse(Era::V5_5, "4G@8G:1,8");
        assert_eq!((r, k.fake_mems.len()), (Ok(()), 1));
        let (k, r) = parse(Era::V5_5, "4G@8G:1,4G@12G");
        assert_eq!((r, k.fake_mems.len()), (Ok(()), 1));
        // Garbage after an attribute: the entry is kept, the result is -EINVAL.
        let (k, r) = parse(Era::V5_5, "4G@8G:1;x");
        assert_eq!((r, k.fake_mems.len()), (Err(Errno::EINVAL), 1));
        // "0x1e" is 30; "1e" as a size is 1 << 60.
        let (k, _) = parse(Era::V5_5, "1e@0:0x1e");
        assert_eq!(k.fake_mems[0], MemRange::new(0, (1 << 60) - 1, 30));
        // "08" parses as 0 and the '8' starts a new size.
        let (k, r) = parse(Era::V5_5, "4G@8G:08@1G:2");
        assert_eq!(r, Ok(()));
        assert_eq!(
            k.fake_mems,
            vec![
                MemRange::new(G, G + 7, 2),
                MemRange::new(8 * G, 12 * G - 1, 0)
            ]
        );
        // "0xg": attribute 0, stops at 'x': -EINVAL.
        let (k, r) = parse(Era::V5_5, "4G@8G:0xg");
        assert_eq!((r, k.fake_mems[0].attribute), (Err(Errno::EINVAL), 0));
        // 16E overflows to size 0: end = start - 1.
        let (k, _) = parse(Era::V5_5, "16E@4G:1");
        assert_eq!(k.fake_mems[0], MemRange::new(4 * G, 4 * G - 1, 1));
        assert_eq!(parse(Era::V5_5, "").1, Ok(()));
        let mut k = Kernel::new(Era::V5_5, Fill::Zero);
        assert_eq!(k.setup_fake_mem(None), Err(Errno::EINVAL));
    }

    #[test]
    fn max_fake_mem_overflow() {
        let nine: Vec<String> = (0..9).map(|i| format!("4K@{}G:1", i)).collect();
        // Nine entries, no trailing comma: the ninth is dropped, result 0.
        let (k, r) = parse(Era::V5_5, &nine.join(","));
        assert_eq!((r, k.fake_mems.len()), (Ok(()), 8));
        assert_eq!(k.fake_mems[7].start, 7 * G);
        // With a comma after it: -EINVAL.
        let (k, r) = parse(Era::V5_5, &(nine.join(",") + ","));
        assert_eq!((r, k.fake_mems.len()), (Err(Errno::EINVAL), 8));
        // Several options accumulate and are re-sorted.
        let mut k = Kernel::new(Era::V5_5, Fill::Zero);
        k.setup_fake_mem(Some("4K@8G:1")).unwrap();
        k.setup_fake_mem(Some("4K@4G:2")).unwrap();
        assert_eq!(
            k.fake_mems.iter().map(|m| m.attribute).collect::<Vec<_>>(),
            vec![2, 1]
        );
    }

    #[test]
    fn equal_starts_sort_by_era() {
        let line =
            "4K@4G:1,4K@4G:2,4K@4G:4,4K@4G:8,4K@4G:0x10,4K@4G:0x1000,4K@4G:0x2000,4K@4G:0x4000";
        let attrs = |e| {
            let (k, _) = parse(e, line);
            k.fake_mems.iter().map(|m| m.attribute).collect::<Vec<_>>()
        };
        assert_eq!(
            attrs(Era::V5_5),
            vec![2, 4, 8, 0x10, 0x1000, 0x2000, 0x4000, 1]
        );
        assert_eq!(
            attrs(Era::V6_10),
            vec![2, 8, 0x10, 0x1000, 0x2000, 0x4000, 4, 1]
        );
    }
}
