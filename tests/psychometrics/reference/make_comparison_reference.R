# Reference values for psychometrics/comparison.py (tests/psychometrics/test_comparison.py).
#
# Run from the repository root:  Rscript tests/psychometrics/reference/make_comparison_reference.R
# Needs: metafor, jsonlite (Debian: apt-get install r-cran-metafor r-cran-jsonlite).
# The samples are written into the JSON beside the results, so the test needs no R.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

here <- "tests/psychometrics/reference"
set.seed(19)

one_case <- function(x, y, label) {
  w <- t.test(x, y, var.equal = FALSE, conf.level = 0.95)
  e <- escalc(measure = "SMD", m1i = mean(x), sd1i = sd(x), n1i = length(x),
              m2i = mean(y), sd2i = sd(y), n2i = length(y), vtype = "LS")
  s <- summary(e)
  list(
    label = label, x = x, y = y,
    welch = list(estimate = unname(w$estimate), conf_int = as.numeric(w$conf.int),
                 df = unname(w$parameter), statistic = unname(w$statistic), p_value = w$p.value),
    hedges = list(yi = as.numeric(e$yi), vi = as.numeric(e$vi),
                  ci_lb = as.numeric(s$ci.lb), ci_ub = as.numeric(s$ci.ub))
  )
}

# Scores on the instrument's 1..5 scale in steps of 1/4 (a mean of four items), as reports see them.
scores <- function(n, level, spread) pmin(5, pmax(1, round(4 * rnorm(n, level, spread)) / 4))

cases <- list(
  one_case(scores(40, 3.6, 0.6), scores(25, 3.2, 0.9), "unequal sizes and spreads"),
  one_case(scores(6, 3.0, 0.5), scores(7, 3.1, 0.5), "two small groups"),
  one_case(scores(200, 4.1, 0.7), scores(180, 4.0, 0.7), "large similar waves"),
  one_case(c(3, 4, 5, 4), c(2, 3, 3, 2, 2), "docstring example")
)

youth <- rnorm(12, 3.8, 0.4)
parent <- 0.3 * youth + rnorm(12, 2.6, 0.3)
correlations <- lapply(list(list(youth, parent, 0.95), list(youth[1:5], parent[1:5], 0.90)), function(a) {
  ct <- cor.test(a[[1]], a[[2]], method = "pearson", conf.level = a[[3]])
  list(x = a[[1]], y = a[[2]], conf_level = a[[3]], estimate = unname(ct$estimate),
       conf_int = as.numeric(ct$conf.int), p_value = ct$p.value)
})

reliable <- list(sd = 0.8, rxx = 0.84, value = qnorm(0.975) * sqrt(2) * 0.8 * sqrt(1 - 0.84))

out <- list(
  meta = list(r_version = R.version.string,
              packages = setNames(lapply(c("metafor", "jsonlite"), function(p) as.character(packageVersion(p))),
                                  c("metafor", "jsonlite"))),
  cases = cases, correlations = correlations, reliable_change = reliable
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(here, "comparison_reference.json"))
