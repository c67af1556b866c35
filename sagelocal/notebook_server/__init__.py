"""Code that runs inside a notebook instance's JupyterLab process: presigned-URL auth and launch argv."""
