"""What operators run against a deployment: the deflection report (make report)
and the dependency audit (make audit). Never imported by the servers."""
