# Reference values for tests/servqual/test_against_r.py, printed by
#   R 4.2.2, psych 2.2.9, lavaan 0.6.14, semTools 0.5.6, GPArotation (Debian packages
#   r-base-core, r-cran-psych, r-cran-lavaan, r-cran-semtools, r-cran-gparotation), run with: Rscript psych_lavaan_reference.R
# The data are lavaan's HolzingerSwineford1939, the same 301 rows as data/servqual/.
suppressPackageStartupMessages({library(psych); library(lavaan); library(GPArotation)})
hs <- lavaan::HolzingerSwineford1939
x <- hs[, paste0("x", 1:9)]
show <- function(label, f) {
  L <- unclass(f$loadings)
  cat("==", label, "\n"); print(round(L, 4))
  if (!is.null(f$Phi)) { cat("Phi\n"); print(round(f$Phi, 4)) }
  cat("communality\n"); print(round(f$communality, 4))
}
show("minres oblimin", fa(x, 3, fm = "minres", rotate = "oblimin"))
show("ml promax", fa(x, 3, fm = "ml", rotate = "promax"))
show("pa varimax", fa(x, 3, fm = "pa", rotate = "varimax"))
model <- 'visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9'
cfg <- cfa(model, data = hs, group = "school")
met <- cfa(model, data = hs, group = "school", group.equal = "loadings")
sca <- cfa(model, data = hs, group = "school", group.equal = c("loadings", "intercepts"))
stc <- cfa(model, data = hs, group = "school", group.equal = c("loadings", "intercepts", "residuals"))
for (m in list(cfg, met, sca, stc)) {
  f <- fitMeasures(m, c("chisq", "df", "cfi", "tli", "rmsea", "srmr"))
  cat(sprintf("chisq %.4f df %d cfi %.4f tli %.4f rmsea %.4f srmr %.4f\n",
              f[["chisq"]], as.integer(f[["df"]]), f[["cfi"]], f[["tli"]], f[["rmsea"]], f[["srmr"]]))
}
cat("version", as.character(packageVersion("psych")), as.character(packageVersion("lavaan")), R.version.string, "\n")

# Reliability and validity from the three-factor CFA (semTools).
suppressPackageStartupMessages(library(semTools))
fit <- cfa(model, data = hs)
cat("AVE\n"); print(round(AVE(fit), 4))
cat("compRelSEM\n"); print(round(compRelSEM(fit), 4))
cat("HTMT\n"); print(round(htmt(model, data = hs), 4))
cat("latent cor\n"); print(round(lavInspect(fit, "cor.lv"), 4))
# one-factor omega per dimension (congeneric ML CFA), as omega_total
for (d in list(c("x1","x2","x3"), c("x4","x5","x6"), c("x7","x8","x9"))) {
  m1 <- paste("f =~", paste(d, collapse = " + "))
  f1 <- cfa(m1, data = hs)
  cat("omega1", paste(d, collapse=","), sprintf("%.4f", compRelSEM(f1)), "\n")
}
cat(as.character(packageVersion("semTools")), "\n")
