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
model <- 'visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9'
fit <- lavaan::cfa(model, data = hs)
p4 <- function(label, v) cat(label, sprintf("%.4f", v), "\n")
p4("AVE", AVE(fit)); p4("compRelSEM", compRelSEM(fit))
h <- htmt(model, data = hs); p4("HTMT", c(h[2, 1], h[3, 1], h[3, 2]))
r <- lavaan::lavInspect(fit, "cor.lv"); p4("cor.lv", c(r[2, 1], r[3, 1], r[3, 2]))
for (d in list(c("x1","x2","x3"), c("x4","x5","x6"), c("x7","x8","x9"))) {
  f1 <- lavaan::cfa(paste("f =~", paste(d, collapse = " + ")), data = hs)
  cat("omega (one factor)", paste(d, collapse = ","), sprintf("%.4f", compRelSEM(f1)), "\n")
}
