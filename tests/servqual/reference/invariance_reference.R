# Reference values for tests/servqual/test_invariance_partial.py, printed by
#   R 4.2.2 with lavaan 0.6.14 (Debian r-cran-lavaan) and jsonlite, run from the repository root:
#   Rscript tests/servqual/reference/invariance_reference.R
# It writes tests/servqual/data/invariance_reference.json: partial invariance (group.partial),
# latent means per group and lavTestScore's univariate score tests of the equality constraints,
# on lavaan's HolzingerSwineford1939 by school (the rows of data/servqual/holzinger_swineford1939.csv).
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})
hs <- lavaan::HolzingerSwineford1939
model <- '
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
'
fm_names <- c("npar", "chisq", "df", "pvalue", "cfi", "tli", "logl", "aic", "bic", "rmsea",
              "rmsea.ci.lower", "rmsea.ci.upper", "srmr")
# The score tests name parameters by plabel (.p2. == .p38.); map them to lhs/op/rhs/group.
score_table <- function(fit) {
  pt <- parTable(fit)
  uni <- lavTestScore(fit)$uni
  lhs_i <- match(uni$lhs, pt$plabel)
  rhs_i <- match(uni$rhs, pt$plabel)
  data.frame(lhs = pt$lhs[lhs_i], op = pt$op[lhs_i], rhs = pt$rhs[lhs_i],
             group_a = pt$group[lhs_i], group_b = pt$group[rhs_i],
             chi2 = uni$X2, df = uni$df, pvalue = uni$p.value)
}
case <- function(fit) {
  fm <- as.list(fitMeasures(fit, fm_names))
  names(fm) <- gsub(".", "_", names(fm), fixed = TRUE)
  pe <- parameterEstimates(fit)
  lv <- lavNames(fit, "lv")
  means <- pe[pe$op == "~1" & pe$lhs %in% lv, c("lhs", "group", "est", "se")]
  pe <- pe[, c("lhs", "op", "rhs", "group", "est", "se")]
  out <- list(fit = fm, latent_means = means, estimates = pe)
  if (length(fit@Model@ceq.JAC) > 0 || nrow(fit@Model@con.jac) > 0) {
    out$score <- score_table(fit)
    out$score_total <- as.list(lavTestScore(fit)$test[, c("X2", "df", "p.value")])
  }
  out
}
out <- list(version = as.character(packageVersion("lavaan")))
partial <- c("x3~1", "x7~1")
out$metric <- case(cfa(model, data = hs, group = "school", group.equal = "loadings"))
out$scalar <- case(cfa(model, data = hs, group = "school",
                       group.equal = c("loadings", "intercepts")))
out$scalar_partial <- case(cfa(model, data = hs, group = "school",
                               group.equal = c("loadings", "intercepts"),
                               group.partial = partial))
out$strict_partial <- case(cfa(model, data = hs, group = "school",
                               group.equal = c("loadings", "intercepts", "residuals"),
                               group.partial = c(partial, "x1~~x1")))
# A released loading: group.partial applies at the metric level too.
out$metric_partial <- case(cfa(model, data = hs, group = "school", group.equal = "loadings",
                               group.partial = "visual=~x2"))
# Four groups (school within grade 7, school initial otherwise): constraints of groups 2-4
# against group 1, each tested alone.
hs4 <- hs
hs4$g4 <- ifelse(!is.na(hs$grade) & hs$grade == 7, as.character(hs$school),
                 paste0("x", substr(as.character(hs$school), 1, 1)))
out$scalar_four_groups <- case(cfa(model, data = hs4, group = "g4",
                                   group.equal = c("loadings", "intercepts"),
                                   group.partial = "x3~1"))
out$scalar_four_groups$group_labels <- lavInspect(
  cfa(model, data = hs4, group = "g4"), "group.label")

dir.create("tests/servqual/data", showWarnings = FALSE)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = FALSE, na = "null"),
           "tests/servqual/data/invariance_reference.json")
cat("written tests/servqual/data/invariance_reference.json with lavaan", out$version, "\n")
