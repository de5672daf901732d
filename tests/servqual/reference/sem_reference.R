# Reference values for tests/servqual/test_sem_against_r.py, printed by
#   R 4.2.2 with lavaan 0.6.14 (Debian r-cran-lavaan) and jsonlite, run from the repository root:
#   Rscript tests/servqual/reference/sem_reference.R
# It writes tests/servqual/data/sem_reference.json. The data are lavaan's PoliticalDemocracy
# and HolzingerSwineford1939 (the same rows as data/servqual/political_democracy.csv and
# holzinger_swineford1939.csv).
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})
pd <- lavaan::PoliticalDemocracy
hs <- lavaan::HolzingerSwineford1939

fm_names <- c("npar", "chisq", "df", "pvalue", "baseline.chisq", "baseline.df", "cfi", "tli",
              "logl", "unrestricted.logl", "aic", "bic", "bic2", "ntotal", "rmsea",
              "rmsea.ci.lower", "rmsea.ci.upper", "rmsea.pvalue", "srmr")
case <- function(fit) {
  fm <- as.list(fitMeasures(fit, fm_names))
  names(fm) <- gsub(".", "_", names(fm), fixed = TRUE)
  pe <- parameterEstimates(fit, standardized = TRUE)
  keep <- intersect(c("lhs", "op", "rhs", "group", "label", "est", "se", "std.lv", "std.all"),
                    names(pe))
  pe <- pe[, keep]
  names(pe) <- gsub(".", "_", names(pe), fixed = TRUE)
  list(fit = fm, estimates = pe, version = as.character(packageVersion("lavaan")),
       std_all = std_solution(fit, "std.all"), std_lv = std_solution(fit, "std.lv"))
}
# standardizedSolution: delta-method SEs of the standardized estimates
std_solution <- function(fit, type) {
  ss <- standardizedSolution(fit, type = type)
  keep <- intersect(c("lhs", "op", "rhs", "group", "est.std", "se", "z", "pvalue", "ci.lower",
                      "ci.upper"), names(ss))
  ss <- ss[, keep]
  names(ss) <- gsub(".", "_", names(ss), fixed = TRUE)
  ss
}
out <- list()

# 1. The lavaan tutorial's political democracy model (Bollen 1989).
pd_model <- '
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
'
fit <- sem(pd_model, data = pd)
res <- case(fit)
mi <- modindices(fit)
res$modindices <- mi[, c("lhs", "op", "rhs", "mi", "epc", "sepc.lv", "sepc.all")]
names(res$modindices) <- gsub(".", "_", names(res$modindices), fixed = TRUE)
res$resid_raw <- residuals(fit, type = "raw")$cov
res$resid_cor <- residuals(fit, type = "cor")$cov
res$resid_std <- residuals(fit, type = "standardized")$cov
res$ov_names <- lavNames(fit, "ov")
fs <- lavPredict(fit, method = "regression")
res$factor_scores <- as.data.frame(fs)
out$political_democracy <- res

# 2. The same with the tutorial's equality constraints (shared labels), a fixed residual
#    covariance and a mean structure.
pd_eq <- '
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + a*y2 + b*y3 + c*y4
  dem65 =~ y5 + a*y6 + b*y7 + c*y8
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
  y1 ~~ 0.5*y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
  y1 ~ 1
'
out$political_democracy_equal <- case(sem(pd_eq, data = pd))

# 3. Second-order factor (a general factor over visual, textual, speed).
hs_g <- '
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
  g =~ visual + textual + speed
'
out$hs_second_order <- case(sem(hs_g, data = hs))

# 4. Mediation among latent variables with defined indirect and total effects.
hs_med <- '
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
  textual ~ a*visual
  speed ~ b*textual + c*visual
  indirect := a*b
  total := c + a*b
'
out$hs_mediation <- case(sem(hs_med, data = hs))

# 5. Observed exogenous covariates (fixed.x = TRUE) predicting latent variables.
hs_x <- '
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  visual ~ ageyr + sex
  textual ~ ageyr
'
out$hs_covariates <- case(sem(hs_x, data = hs))

# 6. Two groups with equal loadings and intercepts, one loading released (partial).
hs3 <- '
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
'
out$hs_groups_partial <- case(sem(hs3, data = hs, group = "school",
                                  group.equal = c("loadings", "intercepts"),
                                  group.partial = c("visual=~x2", "x3~1")))

# 7. Factor variances fixed at 1 (std.lv) and an orthogonal model.
out$hs_std_lv <- case(sem(hs3, data = hs, std.lv = TRUE))
out$hs_orthogonal <- case(sem(hs3, data = hs, orthogonal = TRUE))

# 8. Satorra-Bentler (MLM): robust SEs, scaled and robust fit measures; one and two groups.
fm_robust <- c("chisq.scaled", "chisq.scaling.factor", "pvalue.scaled", "baseline.chisq.scaled",
               "baseline.chisq.scaling.factor", "cfi.scaled", "tli.scaled", "cfi.robust",
               "tli.robust", "rmsea.scaled", "rmsea.robust")
robust_case <- function(fit) {
  res <- case(fit)
  rf <- as.list(fitMeasures(fit, fm_robust))
  names(rf) <- gsub(".", "_", names(rf), fixed = TRUE)
  res$fit <- c(res$fit, rf)
  res
}
out$political_democracy_mlm <- robust_case(sem(pd_model, data = pd, estimator = "MLM"))
out$hs_groups_mlm <- robust_case(sem(hs3, data = hs, group = "school", estimator = "MLM",
                                     group.equal = "loadings"))

# 8b. Yuan-Bentler (MLR, lavaan 0.6.14's defaults: observed information, first-order meat,
#     test "yuan.bentler.mplus"): robust SEs, scaled and robust fit measures; one and two groups.
out$political_democracy_mlr <- robust_case(sem(pd_model, data = pd, estimator = "MLR"))
out$hs_mlr <- robust_case(sem(hs3, data = hs, estimator = "MLR"))
out$hs_groups_mlr <- robust_case(sem(hs3, data = hs, group = "school", estimator = "MLR",
                                     group.equal = "loadings"))

# 8c. FIML (missing = "ml"): the HS items with values deleted by a seeded rule (each of x2..x9
#     missing with probability 0.12, rows not emptied); the data (with the school, for the
#     groups) go to a CSV for the tests.
set.seed(13)
hs_na <- hs[, c("id", paste0("x", 1:9))]
for (v in paste0("x", 2:9)) hs_na[runif(nrow(hs_na)) < 0.12, v] <- NA
hs_na$school <- hs$school
write.csv(hs_na, "tests/servqual/data/hs_missing.csv", row.names = FALSE, na = "")
out$hs_fiml <- case(sem(hs3, data = hs_na, missing = "ml"))
# 8d. FIML with MLR (lavaan 0.6.14's defaults for missing = "ml": observed information,
#     Huber-White SEs, test "yuan.bentler.mplus", robust CFI/RMSEA "FIML-corrected" V3),
#     and FIML with two groups (equal loadings and intercepts, one intercept released; and
#     equal loadings with MLR).
out$hs_fiml_mlr <- robust_case(sem(hs3, data = hs_na, missing = "ml", estimator = "MLR"))
out$hs_groups_fiml <- case(sem(hs3, data = hs_na, missing = "ml", group = "school",
                               group.equal = c("loadings", "intercepts"),
                               group.partial = "x3~1"))
out$hs_groups_fiml_mlr <- robust_case(sem(hs3, data = hs_na, missing = "ml", group = "school",
                                          estimator = "MLR", group.equal = "loadings"))

# 9. Bootstrap standard errors and percentile intervals of the mediation model (1000 draws;
#    simlib draws different resamples, so the tests compare within Monte Carlo error).
set.seed(1)
fb <- sem(hs_med, data = hs, se = "bootstrap", bootstrap = 1000)
pb <- parameterEstimates(fb, boot.ci.type = "perc")
out$hs_mediation_bootstrap <- list(estimates = pb[, c("lhs", "op", "rhs", "est", "se",
                                                      "ci.lower", "ci.upper")],
                                   std_all = std_solution(fb, "std.all"))

dir.create("tests/servqual/data", showWarnings = FALSE)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = FALSE, na = "null"),
           "tests/servqual/data/sem_reference.json")
cat("written tests/servqual/data/sem_reference.json with lavaan", as.character(packageVersion("lavaan")), "\n")
