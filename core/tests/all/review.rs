//! A review as a reply to the patch's mail: v5.6's fix of the overrun
//! reverted (the model of v5.6 before, v5.5 after), with a format-patch
//! of the project's own whose hunk changes efi_arch_mem_reserve. The
//! reply threads under the patch, quotes that hunk, and gives the
//! minimized case; the whole mail is a snapshot.

use efimap_core::cases::patch::Series;
use efimap_core::engine::ModelEngine;
use efimap_core::search::diff::Phases;
use efimap_core::search::explore::Bound;
use efimap_core::search::review::{review, Review, ReviewConfig};
use efimap_core::Era;
use std::path::Path;
use std::time::Duration;

const PATCH: &str = "From 0123 Mon Sep 17 00:00:00 2001
From: A Developer <dev@example.org>
Date: Tue, 1 Dec 2026 10:00:00 +0000
Subject: [PATCH] efi/x86: an example change to efi_arch_mem_reserve
Message-ID: <20261201100000.1-dev@example.org>

An example patch for the review's mail form.
---
 arch/x86/platform/efi/quirks.c | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)

diff --git a/arch/x86/platform/efi/quirks.c b/arch/x86/platform/efi/quirks.c
--- a/arch/x86/platform/efi/quirks.c
+++ b/arch/x86/platform/efi/quirks.c
@@ -10,3 +10,3 @@ void efi_arch_mem_reserve(void)
 one
-two
+three
 four
@@ -40,2 +40,2 @@ static void other(void)
 five
-six
+seven
-- 
2.39.2
";

#[test]
fn a_reply_to_the_patch() {
    let mut series = Series::parse(Path::new("example.patch"), PATCH).unwrap();
    series
        .resolve(|p| p == "arch/x86/platform/efi/quirks.c")
        .unwrap();
    let cfg = ReviewConfig {
        phases: Phases {
            corpus: vec![],
            bound: Bound::HUNT,
            random: 0,
            budget: Duration::ZERO,
            seed: 1,
        },
        minimize: Duration::from_secs(10),
    };
    let run = review(
        &mut ModelEngine(Era::V5_6),
        &mut ModelEngine(Era::V5_5),
        &cfg,
    )
    .unwrap();
    let r = Review {
        subjects: series.patches.iter().map(|p| p.subject.clone()).collect(),
        version: "5.5.0".into(),
        era: Era::V5_5,
        built: vec!["arch/x86/platform/efi/quirks.c".into()],
        other: vec![],
        run,
        touched: None,
    };
    assert!(r.adds_findings());
    let mail = r.mail(&series);
    let mut lines = mail.lines();
    assert_eq!(
        lines.next(),
        Some("Subject: Re: [PATCH] efi/x86: an example change to efi_arch_mem_reserve")
    );
    assert_eq!(
        lines.next(),
        Some("In-Reply-To: <20261201100000.1-dev@example.org>")
    );
    // The first hunk (efi_arch_mem_reserve's) is quoted, the second not.
    assert!(mail.contains("> @@ -10,3 +10,3 @@ void efi_arch_mem_reserve(void)\n"));
    assert!(!mail.contains("static void other"));
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../../../snapshots/review");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!("review_mail_reply", mail));
}
