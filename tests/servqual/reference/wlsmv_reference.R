# Reference values for tests/servqual/test_wlsmv_against_r.py, printed by
#   R 4.2.2 with lavaan 0.6.14 (Debian r-cran-lavaan) and jsonlite, run from the repository root:
#   Rscript tests/servqual/reference/wlsmv_reference.R
# It writes tests/servqual/data/hs_ordinal.csv (the nine Holzinger-Swineford tests cut at their
# 20/50/80% quantiles into 4 ordered categories), hs_binary.csv (binary items, see case 4) and
# tests/servqual/data/wlsmv_reference.json:
# thresholds, polychoric correlations and the diagonal of their asymptotic covariance
# (lavaan's NACOV) for both data sets, and estimates, standard errors and fit measures of
# lavaan's default ordinal estimator (estimator = "WLSMV", parameterization = "delta") for
# four models, and two models mixing ordinal with continuous items (polyserial and Pearson
# correlations; data/hs_mixed.csv). The SERVQUAL data are data/servqual/sq_bliemel2004.csv (items 0..100 in steps
# of 20, six categories with sparse low ones: many empty cells in the bivariate tables).
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})

hs <- lavaan::HolzingerSwineford1939
items <- paste0("x", 1:9)
hs_ord <- data.frame(lapply(hs[items], function(v)
  as.integer(cut(v, quantile(v, c(0, 0.2, 0.5, 0.8, 1)), include.lowest = TRUE))))
write.csv(hs_ord, "tests/servqual/data/hs_ordinal.csv", row.names = FALSE)
sq <- read.csv("data/servqual/sq_bliemel2004.csv")
sq_items <- sprintf("a%02d", 1:22)

fm_names <- c("npar", "fmin", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled",
              "pvalue.scaled", "chisq.scaling.factor", "baseline.chisq", "baseline.df",
              "baseline.pvalue", "baseline.chisq.scaled", "baseline.pvalue.scaled",
              "baseline.chisq.scaling.factor", "cfi", "tli", "cfi.scaled", "tli.scaled",
              "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "rmsea.pvalue", "rmsea.scaled",
              "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled", "rmsea.pvalue.scaled",
              "cfi.robust", "tli.robust", "rmsea.robust", "rmsea.ci.lower.robust",
              "rmsea.ci.upper.robust", "rmsea.pvalue.robust", "srmr", "ntotal")
case <- function(fit) {
  fm <- as.list(fitMeasures(fit, fm_names))
  names(fm) <- gsub(".", "_", names(fm), fixed = TRUE)
  test <- lavTech(fit, "test")[[2]]
  fm$chisq_shift <- test$shift.parameter
  pe <- parameterEstimates(fit, standardized = TRUE)
  pe <- pe[, c("lhs", "op", "rhs", "est", "se", "std.lv", "std.all")]
  names(pe) <- gsub(".", "_", names(pe), fixed = TRUE)
  list(fit = fm, estimates = pe, version = as.character(packageVersion("lavaan")))
}
sampstats <- function(fit, full = FALSE) {
  ss <- lavInspect(fit, "sampstat")
  gam <- unclass(lavInspect(fit, "gamma"))
  out <- list(th = unname(ss$th), th_names = names(ss$th), cor = unname(unclass(ss$cov)),
              nacov_diag = unname(diag(gam)))
  if (full) out$nacov <- unname(gam)
  out
}
out <- list()

# 1. The three-factor Holzinger-Swineford CFA on the ordinal items.
hs_model <- 'visual =~ x1 + x2 + x3
             textual =~ x4 + x5 + x6
             speed =~ x7 + x8 + x9'
fit <- cfa(hs_model, data = hs_ord, ordered = items)
out$hs_cfa <- c(case(fit), list(sample = sampstats(fit, full = TRUE)))

# 2. A structural model: factor variances fixed at 1 (std.lv), a regression among factors
#    and a residual covariance of two ordinal items.
hs_sem <- 'visual =~ x1 + x2 + x3
           textual =~ x4 + x5 + x6
           speed =~ x7 + x8 + x9
           speed ~ visual + textual
           x7 ~~ x8'
fit <- sem(hs_sem, data = hs_ord, ordered = items, std.lv = TRUE)
out$hs_sem <- case(fit)

# 3. The five SERVQUAL dimensions (Parasuraman, Zeithaml & Berry 1988) on the Bliemel items.
sq_model <- 'tangibles =~ a01 + a02 + a03 + a04
             reliability =~ a05 + a06 + a07 + a08 + a09
             responsiveness =~ a10 + a11 + a12 + a13
             assurance =~ a14 + a15 + a16 + a17
             empathy =~ a18 + a19 + a20 + a21 + a22'
fit <- cfa(sq_model, data = sq, ordered = sq_items)
out$servqual_cfa <- c(case(fit), list(sample = sampstats(fit)))

# 4. Binary items (tetrachoric correlations): x1..x4 split at their medians, a one-factor
#    model. And b5, which is 1 only when b1 is, so the table of b1 and b5 has one empty cell:
#    lavaan means to add 0.5 to it keeping the margins, but its optimizer stops at the bound
#    0.999 (its objective floors cell probabilities) with a NACOV entry of order 1e58; the
#    test compares every other statistic of the five items (sample_b5).
hs_bin <- data.frame(lapply(hs[paste0("x", 1:4)], function(v) as.integer(v > median(v))))
names(hs_bin) <- paste0("b", 1:4)
hs_bin$b5 <- as.integer(hs_bin$b1 == 1 & hs$x5 > median(hs$x5))
write.csv(hs_bin, "tests/servqual/data/hs_binary.csv", row.names = FALSE)
fit <- cfa('f =~ b1 + b2 + b3 + b4', data = hs_bin, ordered = names(hs_bin))
out$hs_binary <- c(case(fit), list(sample = sampstats(fit, full = TRUE)))
fit <- cfa('f =~ b1 + b2 + b3 + b4 + b5', data = hs_bin, ordered = names(hs_bin))
out$hs_binary$sample_b5 <- sampstats(fit, full = TRUE)

# 5. Mixed ordinal and continuous items: x1, x4 and x7 keep their raw (continuous) scores,
#    the other six are the ordinal cuts of case 1; the three-factor CFA, so every kind of
#    pair appears (polychoric, polyserial, Pearson). lavaan adds free intercepts and residual
#    variances of the continuous items; its statistics are thresholds and minus the means,
#    the variances of the continuous items and the covariances (correlations times their
#    standard deviations).
hs_mix <- hs_ord
hs_mix[c("x1", "x4", "x7")] <- hs[c("x1", "x4", "x7")]
write.csv(hs_mix, "tests/servqual/data/hs_mixed.csv", row.names = FALSE)
mix_ord <- setdiff(items, c("x1", "x4", "x7"))
mixstats <- function(fit) {
  wls <- lavInspect(fit, "wls.obs")
  list(stats = unname(wls), stat_names = names(wls), nacov = unname(unclass(lavInspect(fit, "gamma"))))
}
fit <- cfa(hs_model, data = hs_mix, ordered = mix_ord)
out$hs_mixed_cfa <- c(case(fit), list(sample = mixstats(fit)))
# 6. A two-factor CFA with std.lv: visual on three continuous items (Pearson pairs only),
#    textual on three ordinal ones.
hs_mix2 <- hs_ord
hs_mix2[c("x1", "x2", "x3")] <- hs[c("x1", "x2", "x3")]
write.csv(hs_mix2, "tests/servqual/data/hs_mixed2.csv", row.names = FALSE)
fit <- cfa('visual =~ x1 + x2 + x3
            textual =~ x4 + x5 + x6', data = hs_mix2, ordered = c("x4", "x5", "x6"),
           std.lv = TRUE)
out$hs_mixed_2f <- c(case(fit), list(sample = mixstats(fit)))

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = FALSE, na = "null"),
           "tests/servqual/data/wlsmv_reference.json")
cat("written tests/servqual/data/wlsmv_reference.json with lavaan",
    as.character(packageVersion("lavaan")), "\n")
