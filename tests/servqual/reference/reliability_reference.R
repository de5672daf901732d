# Reference values for tests/servqual/test_reliability_ci.py, printed by
#   R 4.2.2, psych 2.2.9, semTools 0.5.6, GPArotation (Debian packages r-base-core,
#   r-cran-psych, r-cran-semtools, r-cran-gparotation), run from this folder with:
#   Rscript reliability_reference.R > reliability_reference.csv
# Data: the bundled sets in data/servqual/ (complete rows only, as simlib's listwise default):
#   hs = Holzinger-Swineford (x1..x9, three factors), bb1992 = Q1..Q22 and
#   bliemel = a01..a22 (SERVQUAL's five dimensions), kiosk = p01..p24 (the six
#   dimensions of kiosk_instrument.yaml).
# Quantities: per dimension, Cronbach's alpha, Feldt's 95% interval (psych::alpha's
#   $feldt = alpha.ci), Duhachek's asymptotic SE (psych::alpha's $total$ase); per data
#   set, psych::omega(x, nfactors = number of dimensions) omega_h and omega.tot
#   (defaults: fm = "minres", rotate = "oblimin", flip = TRUE), and semTools::htmt with
#   absolute = TRUE, htmt2 = TRUE (its default), absolute = TRUE, htmt2 = FALSE and
#   absolute = FALSE, htmt2 = FALSE (lower triangle, row factor, column factor).
suppressPackageStartupMessages({library(psych); library(semTools); library(GPArotation)})
root <- file.path("..", "..", "..", "data", "servqual")
rd <- function(f) read.csv(file.path(root, f), check.names = FALSE)
servqual <- function(prefix) {
  ids <- list(tangibles = 1:4, reliability = 5:9, responsiveness = 10:13,
              assurance = 14:17, empathy = 18:22)
  lapply(ids, function(i) sprintf(prefix, i))
}
kiosk_ids <- list(accuracy = c(1, 2, 3, 23), enjoyment = c(4, 5, 6, 22, 24), autonomy = 7:9,
                  efficiency = c(10, 11, 12, 17, 18), flexibility = 13:16, security = 19:21)
sets <- list(
  hs = list(data = rd("holzinger_swineford1939.csv"),
            model = list(visual = c("x1", "x2", "x3"), textual = c("x4", "x5", "x6"),
                         speed = c("x7", "x8", "x9"))),
  bb1992 = list(data = rd("bb1992_servqual.csv"), model = servqual("Q%d")),
  bliemel = list(data = rd("sq_bliemel2004.csv"), model = servqual("a%02d")),
  kiosk = list(data = rd("kiosk_kservqual.csv"),
               model = lapply(kiosk_ids, function(i) sprintf("p%02d", i)))
)
cat("dataset,what,a,b,value\n")
out <- function(set, what, a, b, v) cat(sprintf("%s,%s,%s,%s,%.10g\n", set, what, a, b, v))
for (s in names(sets)) {
  m <- sets[[s]]$model
  x <- na.omit(sets[[s]]$data[, unlist(m)])
  for (d in names(m)) {
    a <- suppressWarnings(psych::alpha(x[, m[[d]]], warnings = FALSE))
    out(s, "alpha", d, "", a$total$raw_alpha)
    out(s, "feldt_low", d, "", a$feldt$lower.ci)
    out(s, "feldt_high", d, "", a$feldt$upper.ci)
    out(s, "ase", d, "", a$total$ase)
  }
  o <- suppressWarnings(suppressMessages(psych::omega(x, nfactors = length(m), plot = FALSE)))
  out(s, "omega_h", "", "", o$omega_h)
  out(s, "omega_tot", "", "", o$omega.tot)
  syntax <- paste(sprintf("%s =~ %s", names(m), sapply(m, paste, collapse = " + ")),
                  collapse = "\n")
  for (v in list(c(TRUE, TRUE), c(TRUE, FALSE), c(FALSE, FALSE))) {
    h <- semTools::htmt(syntax, data = x, absolute = v[1], htmt2 = v[2])
    what <- sprintf("htmt_abs%d_geo%d", v[1], v[2])
    for (i in seq_along(m)) for (j in seq_len(i - 1)) out(s, what, names(m)[i], names(m)[j], h[i, j])
  }
}
cat(sprintf("# %s psych %s semTools %s\n", R.version.string,
            packageVersion("psych"), packageVersion("semTools")))
