//! Runs the two cases of the seed thread through every modelled era and
//! prints what each era's kernel would have installed, printed, overrun
//! and leaked.
//!
//! `cargo run --release --example seed_cases`

use efimap_core::cases::report::render;
use efimap_core::model::desc::{ty, MemoryDesc};
use efimap_core::{run, BootInput, Era, Fill};

const G: u64 = 1 << 30;

fn main() {
    let bgrt = MemoryDesc::new(ty::BOOT_SERVICES_DATA, 0xbea0_0000, 0x100, 0xf);
    let cases = [
        (
            "Dan Williams: two contiguous SP ranges, then a BGRT reservation",
            BootInput {
                map: vec![
                    bgrt,
                    MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 4 * G, (14 * G) >> 12, 0xf),
                ],
                fill: Fill::Zero,
                cmdline: "efi_fake_mem=4G@9G:0x40000,4G@13G:0x40000".into(),
                reservations: vec![(0xbea0_6000, 0x27000)],
                ..BootInput::default()
            },
        ),
        (
            "Dave Young: two SP ranges inside one descriptor",
            BootInput {
                map: vec![
                    bgrt,
                    MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 4 * G, G >> 10, 0xf),
                ],
                fill: Fill::Zero,
                cmdline: "efi_fake_mem=200M@5G:0x40000,300M@5600M:0x40000".into(),
                ..BootInput::default()
            },
        ),
    ];
    for (title, input) in &cases {
        println!("=== {title}");
        println!("    command line: {}", input.cmdline);
        for (addr, size) in &input.reservations {
            println!("    efi_mem_reserve({addr:#x}, {size:#x})");
        }
        for era in Era::all() {
            let outcome = run(era, input).expect("the seed cases are modelled inputs");
            println!("--- {era}");
            print!("{}", render(&outcome));
        }
        println!();
    }
}
