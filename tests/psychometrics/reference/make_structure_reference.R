# Reference values for psychometrics/structure.py (CFA and measurement invariance), from lavaan.
#
# Run from the repository root (the Python tests only read the committed output):
#   python tests/psychometrics/reference/make_invariance_data.py   # writes invariance_data.csv (seeded)
#   Rscript tests/psychometrics/reference/make_structure_reference.R
# It reads bfi.csv (written by make_reference.R from psychTools::bfi) and invariance_data.csv,
# writes hs.csv (lavaan::HolzingerSwineford1939) and structure_reference.json.
#
# Needs: lavaan, psych, psychTools, jsonlite
# (Debian: apt-get install r-cran-lavaan r-cran-psych r-cran-psychtools r-cran-jsonlite).
# Every model is lavaan's default cfa(): marker-variable identification, ML, likelihood "normal",
# listwise deletion; with group= a mean structure.

suppressPackageStartupMessages({
  library(lavaan)
  library(psych)
  library(psychTools)
  library(jsonlite)
})

here <- "tests/psychometrics/reference"
packages <- c("lavaan", "psych", "psychTools", "jsonlite")
measures <- c("npar", "chisq", "df", "pvalue", "baseline.chisq", "baseline.df", "cfi", "tli",
              "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "srmr", "logl", "aic", "bic", "ntotal")

model_syntax <- function(factors) {
  paste(sapply(names(factors), function(f) paste(f, "=~", paste(factors[[f]], collapse = " + "))),
        collapse = "\n")
}

fit_reference <- function(fit) {
  pe <- parameterEstimates(fit)
  ss <- standardizedSolution(fit)
  keep <- pe$op %in% c("=~", "~~", "~1")
  group <- if (is.null(pe$group)) rep(1L, nrow(pe)) else pe$group
  sgroup <- if (is.null(ss$group)) rep(1L, nrow(ss)) else ss$group
  skeep <- ss$op %in% c("=~", "~~", "~1")
  list(
    fit = as.list(fitMeasures(fit, measures)),
    converged = lavInspect(fit, "converged"),
    ngroups = lavInspect(fit, "ngroups"),
    group_labels = lavInspect(fit, "group.label"),
    nobs = as.integer(unlist(lavInspect(fit, "nobs"))),
    estimates = data.frame(lhs = pe$lhs[keep], op = pe$op[keep], rhs = pe$rhs[keep],
                           group = group[keep], est = pe$est[keep]),
    standardized = data.frame(lhs = ss$lhs[skeep], op = ss$op[skeep], rhs = ss$rhs[skeep],
                              group = sgroup[skeep], est_std = ss$est.std[skeep])
  )
}

invariance_reference <- function(model, data, group) {
  configural <- cfa(model, data = data, group = group)
  metric <- cfa(model, data = data, group = group, group.equal = "loadings")
  scalar <- cfa(model, data = data, group = group, group.equal = c("loadings", "intercepts"))
  strict <- cfa(model, data = data, group = group,
                group.equal = c("loadings", "intercepts", "residuals"))
  lrt <- lavTestLRT(configural, metric, scalar)
  list(
    configural = fit_reference(configural),
    metric = fit_reference(metric),
    scalar = fit_reference(scalar),
    strict = fit_reference(strict),
    lrt = list(chisq_diff = unname(lrt[["Chisq diff"]]), df_diff = unname(lrt[["Df diff"]]),
               p = unname(lrt[["Pr(>Chisq)"]]))
  )
}

# ---------------------------------------------------------------------------------------------
# HolzingerSwineford1939: the textbook 3-factor model, and the two schools
# ---------------------------------------------------------------------------------------------
hs <- lavaan::HolzingerSwineford1939
write.csv(hs[, c("id", "sex", "ageyr", "school", "grade", paste0("x", 1:9))],
          file.path(here, "hs.csv"), row.names = FALSE, na = "NA")
hs <- read.csv(file.path(here, "hs.csv"))  # exactly what Python reads; school levels sorted
hs$school <- factor(hs$school)
hs_factors <- list(visual = c("x1", "x2", "x3"), textual = c("x4", "x5", "x6"), speed = c("x7", "x8", "x9"))
hs_model <- model_syntax(hs_factors)
hs_ref <- list(
  factors = hs_factors,
  single = fit_reference(cfa(hs_model, data = hs)),
  school = invariance_reference(hs_model, hs, "school")
)

# ---------------------------------------------------------------------------------------------
# psychTools::bfi: real data with missing values (listwise), 3 factors of 5 items, by gender
# ---------------------------------------------------------------------------------------------
bfi <- read.csv(file.path(here, "bfi.csv"))
reverse <- c("A1", "C4", "C5", "E1", "E2")
bfi[reverse] <- 7 - bfi[reverse]
bfi_factors <- list(agree = paste0("A", 1:5), consc = paste0("C", 1:5), extra = paste0("E", 1:5))
bfi_model <- model_syntax(bfi_factors)
bfi_items <- unlist(bfi_factors)
scores <- sapply(bfi_factors, function(items) rowMeans(bfi[, items], na.rm = TRUE))
alphas <- sapply(bfi_factors, function(items) psych::alpha(bfi[, items], warnings = FALSE)$total$raw_alpha)
bfi_ref <- list(
  factors = bfi_factors,
  reverse = reverse,
  n_rows = nrow(bfi),
  n_complete = sum(complete.cases(bfi[, bfi_items])),
  single = fit_reference(cfa(bfi_model, data = bfi)),
  gender = invariance_reference(bfi_model, bfi, "gender"),
  # disattenuated correlations of the person scores (mean of answered items), alpha as reliability
  alphas = as.list(alphas),
  disattenuated = unname(cor(scores, use = "pairwise.complete.obs") / sqrt(outer(alphas, alphas)))
)

# ---------------------------------------------------------------------------------------------
# simulated: three groups, scalar invariance fails on purpose (make_invariance_data.py)
# ---------------------------------------------------------------------------------------------
sim <- read.csv(file.path(here, "invariance_data.csv"))
sim$group <- factor(sim$group)
sim_factors <- list(a = c("a1", "a2", "a3"), b = c("b1", "b2", "b3"), c = c("c1", "c2", "c3"))
sim_model <- model_syntax(sim_factors)
sim_ref <- list(
  factors = sim_factors,
  single = fit_reference(cfa(sim_model, data = sim)),
  group = invariance_reference(sim_model, sim, "group"),
  # a one-factor model on the 'a' and 'b' items of group A: a poor fit, still a proper solution
  one_factor = fit_reference(cfa("f =~ a1 + a2 + a3 + b1 + b2 + b3", data = sim[sim$group == "A", ]))
)

reference <- list(
  meta = list(
    r_version = R.version.string,
    packages = as.list(sapply(packages, function(p) as.character(packageVersion(p)))),
    made_by = "tests/psychometrics/reference/make_structure_reference.R"
  ),
  hs = hs_ref,
  bfi = bfi_ref,
  simulated = sim_ref
)
jsonlite::write_json(reference, file.path(here, "structure_reference.json"), digits = NA,
                     auto_unbox = TRUE, pretty = TRUE, na = "null", dataframe = "columns")
cat("wrote", file.path(here, "structure_reference.json"), "\n")
