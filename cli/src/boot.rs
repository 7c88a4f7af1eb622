//! `efimap boot --log FILE`: a real boot's serial log held against the
//! model's prediction of it (`efimap_core::cases::boot_log`); `efimap boot
//! --kernel IMAGE`: the boot itself, under QEMU and OVMF, then the same.

use crate::Failure;
use efimap_core::cases::boot_log::{self, BootLog, Comparison};
use efimap_core::cases::corpus::write_atomic;
use efimap_core::cases::dmesg::ImportError;
use efimap_core::cases::scenario::Scenario;
use efimap_core::model::boot::run;
use std::path::{Path, PathBuf};

/// An error at a line of log `path` (line 0: about the whole log).
pub fn at(path: &Path) -> impl Fn(ImportError) -> Failure + '_ {
    move |e| {
        if e.line == 0 {
            Failure::Input(format!("{}: expected {}", path.display(), e.expected))
        } else {
            Failure::Input(format!(
                "{}:{}:{}: expected {}",
                path.display(),
                e.line,
                e.col,
                e.expected
            ))
        }
    }
}

fn read(path: &Path) -> Result<String, Failure> {
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::Input(format!("{}: cannot read: {e}", path.display())))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Prints the divergences of one comparison; returns their count.
fn show(path: &Path, c: &Comparison) -> usize {
    for (section, n) in &c.compared {
        let bad = c
            .divergences
            .iter()
            .filter(|d| d.section == *section)
            .count();
        println!(
            "  {:<20} {n:>4} lines, {:>4} equal, {bad} diverge",
            section.name(),
            n - bad
        );
    }
    for d in &c.divergences {
        println!("  divergence in the {}:", d.section.name());
        match &d.printed {
            Some(p) => println!("    printed   {}:{}: {}", path.display(), p.line, p.text),
            None => println!("    printed   (nothing)"),
        }
        match &d.predicted {
            Some(q) => println!("    predicted {q}"),
            None => println!("    predicted (nothing)"),
        }
    }
    c.divergences.len()
}

/// Writes `sc` into `out` as `name` (a corpus file of the divergence).
fn write_case(out: &Path, name: &str, sc: &Scenario) -> Result<PathBuf, Failure> {
    if !out.is_dir() {
        return Err(Failure::Input(format!(
            "-o {}: expected an existing folder",
            out.display()
        )));
    }
    let path = out.join(name);
    write_atomic(&path, sc.to_text().as_bytes())
        .map_err(|e| Failure::Input(format!("{}: cannot write: {e}", path.display())))?;
    Ok(path)
}

/// Prints the KASAN reports of a log (a kernel built with KASAN) as
/// findings; returns their count.
fn kasan_findings(path: &Path, text: &str) -> usize {
    let reports = efimap_core::cases::kasan::reports(text);
    for r in &reports {
        let name = r
            .signature
            .map_or_else(|| "(no signature)".to_string(), |s| s.to_string());
        let access = r.access.map_or_else(String::new, |(how, size, addr)| {
            format!(", {how:?} of size {size} at {addr:#x}")
        });
        println!(
            "  finding {name}: KASAN {} in {} at {}:{}{access}",
            r.kind,
            r.function,
            path.display(),
            r.line
        );
    }
    reports.len()
}

/// Compares `log` (a boot with `efi=debug`) and, if given, `second` (a
/// boot of the same machine without it) with the model.
pub fn replay(log: &Path, second: Option<&Path>, out: Option<&Path>) -> Result<(), Failure> {
    if let Some(out) = out {
        crate::writable_folder("-o", out)?;
    }
    let text = read(log)?;
    let first = BootLog::read(&text).map_err(at(log))?;
    // The second log is read before anything is compared: one of another
    // kernel is refused before any output.
    let second = match second {
        Some(path) => {
            let text = read(path)?;
            Some((path, first.second(&text).map_err(at(path))?))
        }
        None => None,
    };
    let sc = first.scenario();
    let outcome = run(first.era(), &sc.input).map_err(|e| Failure::Input(e.to_string()))?;
    println!(
        "{}: Linux {}, paired with era {}; command line: {}",
        log.display(),
        first.release,
        first.era(),
        first.cmdline
    );
    if let Some(caveat) = efimap_core::engine::tree::pairing_caveat(first.version) {
        println!("  note: {caveat}");
    }
    let c = boot_log::compare(&first, &sc.input, &outcome);
    let mut lines: usize = c.compared.iter().map(|(_, n)| n).sum();
    let mut divergences = show(log, &c);
    for t in boot_log::runtime_tags(&sc.input, &outcome) {
        println!(
            "  RUNTIME on {} [{:#x}-{:#x}] set by {}: {}",
            efimap_core::model::print::SHORT_NAMES[t.ty as usize],
            t.start,
            t.last,
            t.set_by,
            t.because
        );
    }
    let stem = |p: &Path| {
        p.file_stem()
            .map_or_else(|| "boot".to_string(), |s| s.to_string_lossy().into_owned())
    };
    if let (Some(out), false) = (out, c.divergences.is_empty()) {
        let path = write_case(out, &format!("boot-{}.scn", stem(log)), &sc)?;
        println!("  scenario: {}", path.display());
    }
    if let Some((second, log2)) = second {
        let sc2 = log2.scenario();
        let o2 = run(first.era(), &sc2.input).map_err(|e| Failure::Input(e.to_string()))?;
        let c2 = boot_log::compare(&log2, &sc2.input, &o2);
        println!(
            "{}: a second boot, the first one's map; command line: {}",
            second.display(),
            sc2.input.cmdline
        );
        lines += c2.compared.iter().map(|(_, n)| n).sum::<usize>();
        divergences += show(second, &c2);
        if let (Some(out), false) = (out, c2.divergences.is_empty()) {
            let path = write_case(out, &format!("boot-{}.scn", stem(second)), &sc2)?;
            println!("  scenario: {}", path.display());
        }
    }
    let kasan = kasan_findings(log, &text);
    println!("{lines} lines compared, {divergences} divergences, {kasan} KASAN reports");
    if divergences == 0 && kasan == 0 {
        Ok(())
    } else {
        Err(Failure::Findings)
    }
}

// `efimap boot --kernel IMAGE`: the boot itself, under QEMU and OVMF, with
// an init of efimap's own (kernel/boot/init.c) that prints the runtime
// map, the firmware memmap, the BGRT and /proc/iomem and powers off.

/// The init's source, compiled on the machine that boots it.
const INIT_C: &str = include_str!("../../kernel/boot/init.c");

/// Where OVMF is looked for when --firmware is not given.
const FIRMWARE: [&str; 3] = [
    "/usr/share/OVMF/OVMF_CODE_4M.fd",
    "/usr/share/OVMF/OVMF_CODE.fd",
    "/usr/share/ovmf/OVMF.fd",
];

/// The lines QEMU writes on its standard error when KVM cannot run the
/// guest (the device opens, the processor does not virtualize it, or a
/// nested hypervisor refuses an MSR the vCPU model sets, after which QEMU
/// aborts).
const KVM_FAILED: [&str; 5] = [
    "KVM internal error",
    "failed to initialize kvm",
    "Could not access KVM",
    "failed to set MSR",
    "kvm_buf_set_msrs",
];

/// How the firmware is given to QEMU.
enum Firmware {
    /// A CODE file (read-only flash) and the VARS file a copy of which is
    /// the writable flash.
    Pflash { code: PathBuf, vars: PathBuf },
    /// A single image, code and variables (OVMF.fd), as -bios.
    Bios(PathBuf),
}

impl Firmware {
    fn find(given: Option<&Path>) -> Result<Firmware, Failure> {
        let file = match given {
            Some(f) if f.is_file() => f.to_path_buf(),
            Some(f) => {
                return Err(Failure::Input(format!(
                    "--firmware {}: expected an OVMF firmware file, no such file (Debian's package is ovmf)",
                    f.display()
                )))
            }
            None => FIRMWARE
                .iter()
                .map(PathBuf::from)
                .find(|f| f.is_file())
                .ok_or_else(|| {
                    Failure::Input(format!(
                        "expected OVMF firmware at one of {}; Debian's package is ovmf (or give --firmware FILE)",
                        FIRMWARE.join(", ")
                    ))
                })?,
        };
        let file = std::fs::canonicalize(&file).unwrap_or(file);
        let name = file
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        if !name.contains("CODE") {
            return Ok(Firmware::Bios(file));
        }
        let vars = file.with_file_name(if name.contains("_4M") {
            "OVMF_VARS_4M.fd"
        } else {
            "OVMF_VARS.fd"
        });
        if !vars.is_file() {
            return Err(Failure::Input(format!(
                "{}: expected its variable store {} beside it (Debian's package is ovmf)",
                file.display(),
                vars.display()
            )));
        }
        Ok(Firmware::Pflash { code: file, vars })
    }
}

/// `program` if it names a file, else the first file of that name in a
/// folder of PATH.
fn find_program(program: &Path) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let runnable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.components().count() > 1 {
        return runnable(program).then(|| program.to_path_buf());
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|p| runnable(p))
}

/// KVM when /dev/kvm opens for reading and writing, else TCG.
fn accelerator() -> &'static str {
    let kvm = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm");
    if kvm.is_ok() {
        "kvm"
    } else {
        "tcg"
    }
}

/// The init compiled static from [`INIT_C`] as `out/init`, with the C
/// compiler in CC (words: the program and its first arguments) or `cc`.
fn build_init(out: &Path) -> Result<Vec<u8>, Failure> {
    let cc = std::env::var("CC")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .unwrap_or_else(|| "cc".to_string());
    let mut words = cc.split_whitespace();
    let program = words.next().unwrap_or("cc");
    let src = out.join(".init.c");
    let bin = out.join("init");
    write_atomic(&src, INIT_C.as_bytes())
        .map_err(|e| Failure::Input(format!("{}: cannot write: {e}", src.display())))?;
    let result = std::process::Command::new(program)
        .args(words)
        .args(["-static", "-Os", "-o"])
        .arg(&bin)
        .arg(&src)
        .stdin(std::process::Stdio::null())
        .output();
    let _ = std::fs::remove_file(&src);
    let output = result.map_err(|e| {
        Failure::Input(format!(
            "{program}: cannot run the C compiler that builds the init ({e}); Debian's packages are gcc and libc6-dev (or set CC)"
        ))
    })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(Failure::Input(format!(
            "`{cc} -static -Os` could not build the init ({}); a static link needs the C library's static archive, Debian's packages are gcc and libc6-dev:\n{}",
            output.status,
            tail.join("\n")
        )));
    }
    std::fs::read(&bin).map_err(|e| Failure::Input(format!("{}: cannot read: {e}", bin.display())))
}

/// The initramfs: /dev/console, the mount points and the init.
fn initramfs(init: Vec<u8>) -> Result<Vec<u8>, Failure> {
    use efimap_core::cases::initramfs::{newc, Entry};
    newc(&[
        Entry::dir("dev", 0o755),
        Entry::char_device("dev/console", 0o600, 5, 1),
        Entry::dir("proc", 0o755),
        Entry::dir("sys", 0o755),
        Entry::file("init", 0o755, init),
    ])
    .map_err(|e| Failure::Input(e.to_string()))
}

/// The kernel's command line: efimap's parameters, then the user's.
fn cmdline(debug: bool, append: &str) -> String {
    let mut words = vec!["console=ttyS0"];
    if debug {
        words.push("efi=debug");
    }
    words.extend(["ignore_loglevel", "panic=-1"]);
    if !append
        .split_whitespace()
        .any(|w| w == "kaslr" || w == "nokaslr")
    {
        words.push("nokaslr");
    }
    words.extend(append.split_whitespace());
    words.join(" ")
}

/// A path as a value inside a QEMU option list (commas doubled).
fn qemu_value(p: &Path) -> String {
    p.display().to_string().replace(',', ",,")
}

/// One boot of `b.kernel`.
struct Boot<'a> {
    args: &'a efimap_cli::BootArgs,
    /// `--append`'s words and the scenario's `efi_fake_mem=` ones.
    append: String,
    kernel: &'a Path,
    qemu: &'a Path,
    firmware: &'a Firmware,
    out: &'a Path,
}

/// How one QEMU run ended.
enum Ended {
    /// QEMU exited with this status.
    Exited(std::process::ExitStatus),
    /// KVM could not run the guest; QEMU was stopped.
    KvmFailed,
    /// The timeout passed; QEMU was stopped.
    TimedOut,
}

impl Boot<'_> {
    /// Runs QEMU once with `accel`; the serial log goes to `log_tmp`
    /// (relative to the output folder). Returns how it ended and its
    /// standard error.
    fn qemu(&self, accel: &str, debug: bool, log_tmp: &str) -> Result<(Ended, String), Failure> {
        use std::io::Read;
        use std::process::{Command, Stdio};
        let a = self.args;
        let mut cmd = Command::new(self.qemu);
        cmd.current_dir(self.out)
            .args(["-accel", accel, "-cpu", "max", "-machine", a.machine.name()])
            .args(["-m", &a.memory.to_string(), "-smp", &a.smp.to_string()])
            .args(["-nographic", "-monitor", "none", "-no-reboot"])
            .args(["-serial", &format!("file:{log_tmp}")]);
        let _ = std::fs::remove_file(self.out.join(log_tmp));
        let vars_copy = self.out.join(".vars.fd");
        match self.firmware {
            Firmware::Pflash { code, vars } => {
                std::fs::copy(vars, &vars_copy).map_err(|e| {
                    Failure::Input(format!(
                        "{}: cannot copy to {}: {e}",
                        vars.display(),
                        vars_copy.display()
                    ))
                })?;
                cmd.args([
                    "-drive",
                    &format!("if=pflash,format=raw,readonly=on,file={}", qemu_value(code)),
                    "-drive",
                    "if=pflash,format=raw,file=.vars.fd",
                ]);
            }
            Firmware::Bios(file) => {
                cmd.arg("-bios").arg(file);
            }
        }
        cmd.arg("-kernel")
            .arg(self.kernel)
            .args([
                "-initrd",
                "initramfs.cpio",
                "-append",
                &cmdline(debug, &self.append),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| {
            Failure::Input(format!(
                "{}: cannot run QEMU ({e}); Debian's package is qemu-system-x86",
                self.qemu.display()
            ))
        })?;
        let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let reader = child.stderr.take().map(|mut stderr| {
            let seen = std::sync::Arc::clone(&seen);
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = stderr.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut s) = seen.lock() {
                        s.push_str(&String::from_utf8_lossy(&buf[..n]));
                    }
                }
            })
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(a.timeout);
        let kvm_failed = || {
            accel == "kvm"
                && seen
                    .lock()
                    .is_ok_and(|s| KVM_FAILED.iter().any(|m| s.contains(m)))
        };
        let ended = loop {
            match child.try_wait() {
                Ok(Some(status)) if !status.success() && kvm_failed() => break Ended::KvmFailed,
                Ok(Some(status)) => break Ended::Exited(status),
                Ok(None) => {}
                Err(e) => {
                    return Err(Failure::Input(format!(
                        "{}: cannot wait for QEMU: {e}",
                        self.qemu.display()
                    )))
                }
            }
            let stop = if kvm_failed() {
                Some(Ended::KvmFailed)
            } else if std::time::Instant::now() >= deadline {
                Some(Ended::TimedOut)
            } else {
                None
            };
            if let Some(stop) = stop {
                let _ = child.kill();
                let _ = child.wait();
                break stop;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        };
        if let Some(r) = reader {
            let _ = r.join();
        }
        let _ = std::fs::remove_file(&vars_copy);
        let stderr = seen.lock().map(|s| s.clone()).unwrap_or_default();
        Ok((ended, stderr))
    }

    /// Boots once (with efi=debug when `debug`), the serial log kept as
    /// `out/name`; returns its path and the accelerator that ran it (TCG
    /// after KVM failed).
    fn run(
        &self,
        accel: &'static str,
        debug: bool,
        name: &str,
    ) -> Result<(PathBuf, &'static str), Failure> {
        let a = self.args;
        let log = self.out.join(name);
        let log_tmp = format!(".{name}.tmp");
        let mut accel = accel;
        eprint!(
            "booting {} under qemu ({accel}, {}, {} MiB{})...",
            self.kernel.display(),
            a.machine.name(),
            a.memory,
            if debug { "" } else { ", without efi=debug" }
        );
        let (ended, stderr, secs) = loop {
            let start = std::time::Instant::now();
            let (ended, stderr) = self.qemu(accel, debug, &log_tmp)?;
            if let Ended::KvmFailed = ended {
                eprint!(" KVM cannot run it, again under tcg...");
                accel = "tcg";
                continue;
            }
            break (ended, stderr, start.elapsed().as_secs_f64());
        };
        let kept = std::fs::rename(self.out.join(&log_tmp), &log);
        match ended {
            Ended::TimedOut => {
                eprintln!(" stopped after {secs:.1} s");
                return Err(Failure::Input(format!(
                    "{} did not power off or panic within {} s; log kept at {}",
                    self.kernel.display(),
                    a.timeout,
                    log.display()
                )));
            }
            Ended::Exited(status) if !status.success() => {
                eprintln!(" failed after {secs:.1} s");
                return Err(Failure::Input(format!(
                    "{}: QEMU ended with {status}:\n{}",
                    self.qemu.display(),
                    stderr.trim_end()
                )));
            }
            _ => {}
        }
        kept.map_err(|e| {
            Failure::Input(format!(
                "{}: no serial log from QEMU ({e})",
                self.out.join(&log_tmp).display()
            ))
        })?;
        let text = read(&log)?;
        if text.contains("efimap-init: end") {
            eprintln!(" the init's report printed, powered off after {secs:.1} s");
        } else {
            eprintln!(" ended after {secs:.1} s without the init's report (a panic before it?)");
        }
        if debug && !text.contains("efi: mem00:") {
            return Err(Failure::Input(format!(
                "{}: expected EFI lines (`efi: mem00:`) in the serial log; did the image boot under OVMF?",
                log.display()
            )));
        }
        Ok((log, accel))
    }
}

/// `efimap boot --kernel IMAGE`: boots the image (twice with --twice) and
/// replays the log(s) against the model.
pub fn boot_kernel(a: &efimap_cli::BootArgs, kernel: &Path) -> Result<(), Failure> {
    if !kernel.is_file() {
        return Err(Failure::Input(format!(
            "--kernel {}: expected a kernel image (bzImage), no such file",
            kernel.display()
        )));
    }
    let kernel = std::fs::canonicalize(kernel).unwrap_or_else(|_| kernel.to_path_buf());
    let qemu = find_program(&a.qemu).ok_or_else(|| {
        Failure::Input(format!(
            "--qemu {}: expected QEMU's x86_64 system emulator, not found{}; Debian's package is qemu-system-x86",
            a.qemu.display(),
            if a.qemu.components().count() > 1 { "" } else { " on PATH" }
        ))
    })?;
    let firmware = Firmware::find(a.firmware.as_deref())?;
    let mut append = a.append.clone();
    if let Some(path) = &a.scenario {
        let sc =
            efimap_core::cases::corpus::load(path).map_err(|e| Failure::Input(e.to_string()))?;
        for w in sc.input.cmdline.split_whitespace() {
            if w.starts_with("efi_fake_mem=") {
                append.push(' ');
                append.push_str(w);
            }
        }
    }
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("efimap-boot"));
    std::fs::create_dir_all(&out)
        .map_err(|e| Failure::Input(format!("-o {}: cannot create: {e}", out.display())))?;
    let init = build_init(&out)?;
    let cpio = out.join("initramfs.cpio");
    write_atomic(&cpio, &initramfs(init)?)
        .map_err(|e| Failure::Input(format!("{}: cannot write: {e}", cpio.display())))?;
    let boot = Boot {
        args: a,
        append,
        kernel: &kernel,
        qemu: &qemu,
        firmware: &firmware,
        out: &out,
    };
    let (first, accel) = boot.run(accelerator(), true, "boot.log")?;
    let second = if a.twice {
        Some(boot.run(accel, false, "boot-nodebug.log")?.0)
    } else {
        None
    };
    replay(&first, second.as_deref(), Some(&out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_puts_efimaps_parameters_first() {
        assert_eq!(
            cmdline(true, ""),
            "console=ttyS0 efi=debug ignore_loglevel panic=-1 nokaslr"
        );
        assert_eq!(
            cmdline(false, " memmap=64M$0x100000000  quiet"),
            "console=ttyS0 ignore_loglevel panic=-1 nokaslr memmap=64M$0x100000000 quiet"
        );
        // The user's own word on KASLR, either way, is left alone.
        assert_eq!(
            cmdline(true, "kaslr"),
            "console=ttyS0 efi=debug ignore_loglevel panic=-1 kaslr"
        );
        assert_eq!(
            cmdline(false, "nokaslr"),
            "console=ttyS0 ignore_loglevel panic=-1 nokaslr"
        );
    }

    #[test]
    fn the_initramfs_holds_the_console_the_mount_points_and_the_init() {
        let Ok(got) = initramfs(b"ELF".to_vec()) else {
            panic!("the initramfs's entries are refused");
        };
        let names: Vec<&[u8]> = [
            "dev\0",
            "dev/console\0",
            "proc\0",
            "sys\0",
            "init\0",
            "TRAILER!!!\0",
        ]
        .iter()
        .map(|n| n.as_bytes())
        .collect();
        let mut at = 0;
        for name in names {
            let field = |k: usize| {
                let s = std::str::from_utf8(&got[at + 6 + 8 * k..at + 14 + 8 * k]).unwrap();
                u32::from_str_radix(s, 16).unwrap() as usize
            };
            let (mode, filesize, rdev, namesize) =
                (field(1), field(6), (field(9), field(10)), field(11));
            assert_eq!(&got[at + 110..at + 110 + namesize], name);
            match name {
                b"dev\0" | b"proc\0" | b"sys\0" => assert_eq!(mode, 0o040755),
                b"dev/console\0" => assert_eq!((mode, rdev), (0o020600, (5, 1))),
                b"init\0" => assert_eq!((mode, filesize), (0o100755, 3)),
                _ => assert_eq!(mode, 0),
            }
            at = (at + 110 + namesize).next_multiple_of(4);
            at = (at + filesize).next_multiple_of(4);
        }
        assert_eq!(at, got.len());
    }

    #[test]
    fn qemu_option_values_double_their_commas() {
        assert_eq!(qemu_value(Path::new("/a,b/c.fd")), "/a,,b/c.fd");
    }
}
